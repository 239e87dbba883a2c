package kubelet

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// Platform is the Kubernetes distribution or managed service a node belongs
// to; it selects the benchmark, as kube-bench's --benchmark auto-selection
// does.
type Platform string

// The platforms.
const (
	Kubernetes Platform = "kubernetes"
	AKS        Platform = "aks"
	EKS        Platform = "eks"
	GKE        Platform = "gke"
	OpenShift  Platform = "openshift"
	MicroShift Platform = "microshift"
	K3s        Platform = "k3s"
	RKE2       Platform = "rke2"
	MicroK8s   Platform = "microk8s"
)

// DetectPlatform recognises the platform from the distribution that embeds
// the kubelet, then from files each platform's nodes carry (rke2 runs the
// kubelet as a process of its own, and --kubelet-cmdline names no
// distribution, so the files matter).
func DetectPlatform(h hostfs.FS, inv Invocation) Platform {
	if inv.Distro != "" {
		return Platform(inv.Distro)
	}
	marks := []struct {
		p     Platform
		paths []string
	}{
		{MicroShift, []string{MicroShiftConfig, "/var/lib/microshift"}},
		{RKE2, []string{"/etc/rancher/rke2", "/var/lib/rancher/rke2"}},
		{K3s, []string{"/etc/rancher/k3s", "/var/lib/rancher/k3s"}},
		{MicroK8s, []string{"/var/snap/microk8s"}},
		{OpenShift, []string{"/etc/machine-config-daemon", "/etc/mcs-machine-config-content.json"}},
		{AKS, []string{"/etc/kubernetes/azure.json"}},
		{EKS, []string{"/etc/eks"}},
		{GKE, []string{"/home/kubernetes/kubelet-config.yaml", "/home/kubernetes/bin"}},
	}
	for _, m := range marks {
		for _, p := range m.paths {
			if h.Exists(p) {
				return m.p
			}
		}
	}
	return Kubernetes
}

// Version is a kubelet version's major and minor number.
type Version struct {
	// Major and Minor are 0 when the version is unknown.
	Major, Minor int
	// Raw is the text it was parsed from ("v1.28.3+k3s1").
	Raw string
}

// Known reports whether the version was given.
func (v Version) Known() bool { return v.Major > 0 }

// AtLeast reports whether v is known and at least major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Known() && (v.Major > major || v.Major == major && v.Minor >= minor)
}

// ParseVersion parses "v1.28.3", "1.28", "v1.30.2+k3s1" or "v1.27.4-eks-…".
func ParseVersion(s string) (Version, error) {
	if s == "" {
		return Version{}, nil
	}
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.SplitN(t, ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("parse version %q: want vMAJOR.MINOR[.PATCH]", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRight(parts[1], "+-abcdefghijklmnopqrstuvwxyz"))
	if err1 != nil || err2 != nil || major < 1 {
		return Version{}, fmt.Errorf("parse version %q: want vMAJOR.MINOR[.PATCH]", s)
	}
	return Version{Major: major, Minor: minor, Raw: s}, nil
}
