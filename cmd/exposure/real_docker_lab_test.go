package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/internal/reallab"
)

// TestRealDocker starts dockerd in the node namespace, publishes a busybox
// httpd with `docker run -p`, and compares the live audit with nmap and
// real connections: published ports are forwarded to the container
// (owner docker; the default bridge and a user network), a 127.0.0.1
// binding is not reachable from outside, a published port range whose
// container ports nobody listens on is forwarded yet closed, and a
// published UDP port reaches the container's UDP server. docker-proxy
// (or dockerd without it) holds the host ports on the node.
func TestRealDocker(t *testing.T) {
	for _, c := range []struct {
		name string
		opts reallab.DockerOptions
	}{
		{"nft-userland-proxy", reallab.DockerOptions{}},
		{"legacy-no-proxy", reallab.DockerOptions{Legacy: true, NoUserlandProxy: true}},
	} {
		t.Run(c.name, func(t *testing.T) { testRealDocker(t, c.opts) })
	}
}

func testRealDocker(t *testing.T, opts reallab.DockerOptions) {
	lab := realLab(t, "dockerd", "containerd", "runc", reallab.DockerCLI, reallab.BusyboxBin)
	dk := reallab.StartDocker(t, lab.NodeNS, opts)
	dk.Import("expo-bb:1")
	// Ports 9000-9001 map to container ports nothing listens on: the
	// audit says forwarded, the container answers RST (closed).
	web := dk.Run("-p", "8080:80", "-p", "127.0.0.1:8081:80", "-p", "9000-9001:90-91", "expo-bb:1",
		"busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	if _, err := dk.CLI("network", "create", "--subnet", "172.30.0.0/24", "expo-net"); err != nil {
		t.Fatal(err)
	}
	user := dk.Run("--network", "expo-net", "-p", "8090:80", "expo-bb:1", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	userIP := dk.Inspect(user, "{{(index .NetworkSettings.Networks \"expo-net\").IPAddress}}")
	udp := dk.Run("-p", "5353:53/udp", "expo-bb:1", "busybox", "sleep", "600")
	webIP := dk.Inspect(web, "{{.NetworkSettings.IPAddress}}")
	udpIP := dk.Inspect(udp, "{{.NetworkSettings.IPAddress}}")
	pc, err := reallab.UDPEcho(reallab.PidNetns(atoi(t, dk.Inspect(udp, "{{.State.Pid}}"))), udpIP+":53")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	rep := realAudit(t, lab, n0View)
	// Who holds the host ports on the node (the audit's forwarded rows
	// have no listener: outside packets are DNATed before any socket).
	holder := "docker-proxy"
	if opts.NoUserlandProxy {
		holder = "dockerd"
	}
	ls := nodeListeners(t, lab)
	for _, c := range []struct {
		proto, addr string
		port        int
	}{{"tcp", labTarget, 8080}, {"udp", labTarget, 5353}, {"tcp", "127.0.0.1", 8081}} {
		if got := holders(ls, c.proto, c.addr, c.port); len(got) != 1 || got[0] != holder {
			t.Errorf("%s %s:%d: held by %q on the node, want %s", c.proto, c.addr, c.port, got, holder)
		}
	}
	checkForward(t, exposureAt(t, rep, "tcp", 8080), exposure.CompDocker, webIP, 80)
	checkForward(t, exposureAt(t, rep, "udp", 5353), exposure.CompDocker, udpIP, 53)
	checkForward(t, exposureAt(t, rep, "tcp", 8090), exposure.CompDocker, userIP, 80)
	checkForward(t, exposureAt(t, rep, "tcp", 9000), exposure.CompDocker, webIP, 90)
	checkForward(t, exposureAt(t, rep, "tcp", 9001), exposure.CompDocker, webIP, 91)
	if e := exposureAt(t, rep, "tcp", 8081); e.State != exposure.Closed {
		t.Errorf("tcp/8081 (published on 127.0.0.1): state %q, want closed from outside", e.State)
	}
	if got := fetch(t, lab, "tcp", labTarget+":8080", "GET / HTTP/1.0\r\n\r\n"); !strings.Contains(got, reallab.IndexPage) {
		t.Errorf("GET http://%s:8080/: got %q, want the container's page", labTarget, got)
	}
	if got := fetch(t, lab, "udp", labTarget+":5353", "probe"); got != "echo:probe" {
		t.Errorf("udp %s:5353: got %q, want the container's echo", labTarget, got)
	}
	if got := fetch(t, lab, "tcp", labTarget+":8090", "GET / HTTP/1.0\r\n\r\n"); !strings.Contains(got, reallab.IndexPage) {
		t.Errorf("GET http://%s:8090/ (user network): got %q, want the container's page", labTarget, got)
	}
	for _, p := range []string{"8081", "9000", "9001"} {
		dialFails(t, lab, labTarget+":"+p)
	}
	checkLocalhostMapping(t, lab, webIP)
	checkIPv6(t, lab, opts)
	compareTCP(t, lab, rep, n0View)
	compareUDPAndICMP(t, lab, rep, n0View, []int{53, 5353, 5354})
}

// checkForward checks that a published port is forwarded to the
// container's address and port and owned by component.
func checkForward(t *testing.T, e exposure.Exposure, component, addr string, port int) {
	t.Helper()
	if e.State != exposure.Forwarded || len(e.To) != 1 || e.To[0].Addr != addr || e.To[0].Port != port {
		t.Errorf("%s/%d: state %q to %+v, want forwarded to %s:%d", e.Proto, e.PortFrom, e.State, e.To, addr, port)
	}
	if e.Owner.Component != component {
		t.Errorf("%s/%d: owner %q, want %q", e.Proto, e.PortFrom, e.Owner.Component, component)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkLocalhostMapping checks the CVE-2020-8558 class: a port published
// on 127.0.0.1 is DNATed in nat PREROUTING before routing's martian
// check, so a neighbour on n0 that sends a SYN to 127.0.0.1 reaches the
// container. The audit of 127.0.0.1 from n0 must say forwarded, and a
// raw SYN must get the container's SYN-ACK.
func checkLocalhostMapping(t *testing.T, lab *netns.Lab, webIP string) {
	t.Helper()
	rep := realAudit(t, lab, view{labClient, "n0", "127.0.0.1"})
	checkForward(t, exposureAt(t, rep, "tcp", 8081), exposure.CompDocker, webIP, 80)
	if flags, ok := synAnswer(t, lab, "127.0.0.1", 8081); !ok || flags&0x12 != 0x12 {
		t.Errorf("SYN to 127.0.0.1:8081 via n0: answer %t flags %#x, want the container's SYN-ACK", ok, flags)
	}
	// An unmapped port: routing drops 127.0.0.1 from a wire interface as a
	// martian destination (route_localnet=0), so nothing answers.
	if flags, ok := synAnswer(t, lab, "127.0.0.1", 22); ok {
		t.Errorf("SYN to 127.0.0.1:22 via n0: answered with flags %#x, want no answer (martian destination)", flags)
	}
	if e := exposureAt(t, rep, "tcp", 22); e.State != exposure.Filtered {
		t.Errorf("127.0.0.1 tcp/22 via n0: the audit says %s, the kernel drops it (martian destination: filtered)", e.State)
	}
}

// n0View6 is the client scanning the node's IPv6 address on n0.
var n0View6 = view{"2001:db8:1::2", "n0", "2001:db8:1::1"}

// checkIPv6 audits the node's IPv6 address: dockerd here has no IPv6
// NAT, so docker-proxy's :: socket takes port 8080 itself (open, the
// listener docker-proxy, which relays to the container); without the
// userland proxy nothing holds it (closed). Compared with nmap -6.
func checkIPv6(t *testing.T, lab *netns.Lab, opts reallab.DockerOptions) {
	t.Helper()
	rep := realAudit(t, lab, n0View6)
	e := exposureAt(t, rep, "tcp", 8080)
	want, proc := exposure.Open, "docker-proxy"
	if opts.NoUserlandProxy {
		want, proc = exposure.Closed, ""
	}
	if e.State != want || e.Listener.Process != proc {
		t.Errorf("[%s]:8080: %s with listener %q, want %s with %q", n0View6.addr, e.State, e.Listener.Process, want, proc)
	}
	if !opts.NoUserlandProxy {
		if got := fetch(t, lab, "tcp", "[2001:db8:1::1]:8080", "GET / HTTP/1.0\r\n\r\n"); !strings.Contains(got, reallab.IndexPage) {
			t.Errorf("GET http://[2001:db8:1::1]:8080/: got %q, want the container's page through docker-proxy", got)
		}
	}
	compareTCP(t, lab, rep, n0View6)
	compareUDPAndICMP(t, lab, rep, n0View6, []int{53, 5353, 5354})
}
