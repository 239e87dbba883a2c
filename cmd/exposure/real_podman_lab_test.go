package main

import (
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/reallab"
)

// TestRealPodman runs rootful podman (netavark) in the node namespace with
// `podman run -p` and compares the live audit with nmap and real
// connections: published ports are forwarded to the container (owner
// podman, the container id from netavark's comment), a 127.0.0.1 binding
// is closed from outside, and conmon holds the host ports on the node.
func TestRealPodman(t *testing.T) {
	lab := realLab(t, "podman", "conmon", "/usr/lib/podman/netavark", "runc", reallab.BusyboxBin)
	pm := reallab.StartPodman(t, lab.NodeNS)
	pm.Import("expo-bb:1")
	web := pm.Run("-p", "8082:80", "-p", "127.0.0.1:8083:80", "expo-bb:1", "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	udp := pm.Run("-p", "5353:53/udp", "expo-bb:1", "/bin/busybox", "sleep", "600")
	webIP := pm.Inspect(web, "{{.NetworkSettings.IPAddress}}")
	udpIP := pm.Inspect(udp, "{{.NetworkSettings.IPAddress}}")
	pc, err := reallab.UDPEcho(reallab.PidNetns(atoi(t, pm.Inspect(udp, "{{.State.Pid}}"))), udpIP+":53")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	rep := realAudit(t, lab, n0View)
	for _, c := range []struct {
		proto      string
		port, dest int
		addr, id   string
	}{{"tcp", 8082, 80, webIP, web}, {"udp", 5353, 53, udpIP, udp}} {
		e := exposureAt(t, rep, c.proto, c.port)
		checkForward(t, e, exposure.CompPodman, c.addr, c.dest)
		if e.Owner.Container != c.id {
			t.Errorf("%s/%d: owner container %q, want %s (netavark's dnat comment)", c.proto, c.port, e.Owner.Container, c.id)
		}
	}
	if e := exposureAt(t, rep, "tcp", 8083); e.State != exposure.Closed {
		t.Errorf("tcp/8083 (published on 127.0.0.1): state %q, want closed from outside", e.State)
	}
	ls := nodeListeners(t, lab)
	for _, c := range []struct {
		proto string
		port  int
	}{{"tcp", 8082}, {"udp", 5353}} {
		if got := holders(ls, c.proto, labTarget, c.port); len(got) != 1 || got[0] != "conmon" {
			t.Errorf("%s/%d: held by %q on the node, want conmon", c.proto, c.port, got)
		}
	}
	if got := fetch(t, lab, "tcp", labTarget+":8082", "GET / HTTP/1.0\r\n\r\n"); !strings.Contains(got, reallab.IndexPage) {
		t.Errorf("GET http://%s:8082/: got %q, want the container's page", labTarget, got)
	}
	if got := fetch(t, lab, "udp", labTarget+":5353", "probe"); got != "echo:probe" {
		t.Errorf("udp %s:5353: got %q, want the container's echo", labTarget, got)
	}
	dialFails(t, lab, labTarget+":8083")
	compareTCP(t, lab, rep, n0View)
	compareUDPAndICMP(t, lab, rep, n0View, []int{53, 5353, 5354})
}
