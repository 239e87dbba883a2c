package hygiene

import (
	"path"
	"strings"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// Component is a program that writes netfilter rules and expects them to
// stay as written.
type Component string

// The components the hygiene checks know.
const (
	Kubelet   Component = "kubelet"
	KubeProxy Component = "kube-proxy"
	OVNK      Component = "ovn-kubernetes"
	Docker    Component = "docker"
	Firewalld Component = "firewalld"
)

// Components records which components run on the node and the evidence
// (a PID, a unit) for each.
type Components map[Component]string

// Has reports whether c was seen.
func (cs Components) Has(c Component) bool { _, ok := cs[c]; return ok }

// Kubernetes reports whether any Kubernetes component was seen.
func (cs Components) Kubernetes() bool {
	return cs.Has(Kubelet) || cs.Has(KubeProxy) || cs.Has(OVNK)
}

// procNames maps program base names (argv[0], or argv[1] for interpreters
// and hyperkube) to components.
var procNames = map[string]Component{
	"kubelet": Kubelet, "kubelite": Kubelet, "k3s": Kubelet, "rke2": Kubelet, "microshift": Kubelet,
	"kube-proxy": KubeProxy, "ovnkube": OVNK, "ovnkube-node": OVNK,
	"dockerd": Docker, "firewalld": Firewalld,
}

// FromProcess adds the component a process's argv belongs to; pid is
// evidence text ("/proc/1234").
func (cs Components) FromProcess(argv []string, pid string) {
	for i, a := range argv {
		if i > 1 {
			break
		}
		if c, ok := procNames[path.Base(a)]; ok {
			if _, seen := cs[c]; !seen {
				cs[c] = pid + " " + strings.Join(argv[:min(len(argv), 2)], " ")
			}
			return
		}
	}
}

// unitComponents maps service units to components.
var unitComponents = []struct {
	unit string
	c    Component
}{
	{"kubelet.service", Kubelet}, {"k3s.service", Kubelet}, {"k3s-agent.service", Kubelet},
	{"rke2-server.service", Kubelet}, {"rke2-agent.service", Kubelet}, {"microshift.service", Kubelet},
	{"snap.microk8s.daemon-kubelite.service", Kubelet},
	{"docker.service", Docker}, {"firewalld.service", Firewalld},
}

// FromUnits adds components whose units are enabled or active on the host.
func (cs Components) FromUnits(h hostfs.FS) {
	for _, uc := range unitComponents {
		if _, seen := cs[uc.c]; seen {
			continue
		}
		if u := ReadUnit(h, uc.unit); u.Enabled() || u.Active() {
			cs[uc.c] = "unit " + uc.unit + " (" + u.State() + ")"
		}
	}
}
