package main

import (
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/reallab"
)

// TestRealCNIPortmap attaches a pod namespace to the node namespace with
// the real CNI bridge and portmap plugins (a containerd-style hostPort),
// with real listeners in the pod, and compares the live audit with nmap
// and real connections. No process on the node holds a hostPort: the
// audit must find them from the DNAT rules alone.
func TestRealCNIPortmap(t *testing.T) {
	lab := realLab(t, reallab.CNIPath+"/bridge", reallab.CNIPath+"/portmap", reallab.CNIPath+"/host-local")
	pod := reallab.AddCNIPod(t, lab.NodeNS, lab.Prefix+"pod", "10.22.0.0/24", []reallab.PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 9090, ContainerPort: 90, Protocol: "tcp"}, // nothing listens on 90: closed by the pod
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	})
	ln, err := reallab.TCPBanner(reallab.NamedNetns(pod.NS), pod.IP+":80", "pod says hi\n")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pc, err := reallab.UDPEcho(reallab.NamedNetns(pod.NS), pod.IP+":53")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	rep := realAudit(t, lab, n0View)
	for _, c := range []struct {
		proto      string
		port, dest int
	}{{"tcp", 8080, 80}, {"tcp", 9090, 90}, {"udp", 5353, 53}} {
		e := exposureAt(t, rep, c.proto, c.port)
		checkForward(t, e, exposure.CompCNIPortmap, pod.IP, c.dest)
		if e.Owner.Container != pod.ID {
			t.Errorf("%s/%d: owner container %q, want the sandbox id %s", c.proto, c.port, e.Owner.Container, pod.ID)
		}
		if e.Listener.PID != 0 {
			t.Errorf("%s/%d: listener %+v, want none (CNI portmap is pure DNAT)", c.proto, c.port, e.Listener)
		}
	}
	if got := fetch(t, lab, "tcp", labTarget+":8080", ""); got != "pod says hi\n" {
		t.Errorf("tcp %s:8080: got %q, want the pod's banner", labTarget, got)
	}
	if got := fetch(t, lab, "udp", labTarget+":5353", "probe"); got != "echo:probe" {
		t.Errorf("udp %s:5353: got %q, want the pod's echo", labTarget, got)
	}
	dialFails(t, lab, labTarget+":9090")
	compareTCP(t, lab, rep, n0View)
	compareUDPAndICMP(t, lab, rep, n0View, []int{53, 5353, 5354})
}
