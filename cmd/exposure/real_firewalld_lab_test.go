package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/reallab"
)

// TestRealFirewalld starts firewalld (on a private D-Bus bus) in the node
// namespace, opens ports with firewall-cmd (add-port, add-service, rich
// rules with a source and a tcp-reset reject) in the default zone, listens
// on allowed and disallowed ports, and compares the live audit with nmap
// and real connections, for both firewalld backends.
func TestRealFirewalld(t *testing.T) {
	for _, backend := range []string{reallab.FirewalldNftables, reallab.FirewalldIptables} {
		t.Run(backend, func(t *testing.T) { testRealFirewalld(t, backend) })
	}
}

// firewalldListen are the node's TCP listeners of the firewalld test.
var firewalldListen = []int{22, 80, 3000, 7070, 8080, 9090, 9191}

func testRealFirewalld(t *testing.T, backend string) {
	lab := realLab(t, "firewalld", "firewall-cmd", "dbus-daemon")
	fw := reallab.StartFirewalld(t, lab.NodeNS, backend)
	for _, args := range [][]string{
		{"--add-port=8080/tcp"},
		{"--add-port=8443/tcp"}, // allowed, nothing listens: closed
		{"--add-port=5353/udp"},
		{"--add-service=http"},
		{"--add-rich-rule=rule family=ipv4 source address=" + labClient + "/32 port port=9090 protocol=tcp accept"},
		{"--add-rich-rule=rule family=ipv4 source address=192.0.2.0/24 port port=9191 protocol=tcp accept"},
		{"--add-rich-rule=rule family=ipv4 port port=7070 protocol=tcp reject type=tcp-reset"},
	} {
		fw.MustCmd(args...)
	}
	for _, p := range firewalldListen {
		if _, err := lab.Listen(lab.NodeNS, "tcp4", fmt.Sprintf("0.0.0.0:%d", p)); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := reallab.UDPEcho(reallab.NamedNetns(lab.NodeNS), labTarget+":5353")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	rep := realAudit(t, lab)
	// Every answer is firewalld's decision (the accepting, rejecting or
	// default-zone rule); an open port's listener is this test process.
	for _, c := range []struct {
		port  int
		state string
	}{
		{22, exposure.Open}, {80, exposure.Open}, {8080, exposure.Open}, {9090, exposure.Open},
		{8443, exposure.Closed}, {3000, exposure.Filtered}, {9191, exposure.Filtered}, {7070, exposure.Closed},
	} {
		e := exposureAt(t, rep, "tcp", c.port)
		if e.State != c.state || e.Owner.Component != exposure.CompFirewalld {
			t.Errorf("tcp/%d: %s owned by %q (chain %s), want %s owned by firewalld", c.port, e.State, e.Owner.Component, e.Owner.Chain, c.state)
		}
		if wantPID := pidIf(c.state == exposure.Open); e.Listener.PID != wantPID {
			t.Errorf("tcp/%d: listener pid %d (%s), want %d", c.port, e.Listener.PID, e.Listener.Process, wantPID)
		}
	}
	compareTCP(t, lab, rep)
	compareUDPAndICMP(t, lab, rep, []int{53, 5353, 5354})
}

// pidIf is this process's pid when open, else 0 (no listener).
func pidIf(open bool) int {
	if open {
		return os.Getpid()
	}
	return 0
}
