package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/reallab"
)

// TestRealFirewalld starts firewalld (on a private D-Bus bus) in the node
// namespace, opens ports with firewall-cmd, listens on allowed and
// disallowed ports, and compares the live audit with nmap and real
// connections from two clients, for both firewalld backends:
//   - the default zone public (n2's client 192.0.2.130): add-port,
//     add-service http, a rich rule accepting a port from 192.0.2.0/24, a
//     rich rule rejecting a port with tcp-reset;
//   - zone work bound to the source 198.51.100.2 (n0's client) with
//     add-port: a source zone wins over the interface's zone.
func TestRealFirewalld(t *testing.T) {
	for _, backend := range []string{reallab.FirewalldNftables, reallab.FirewalldIptables} {
		t.Run(backend, func(t *testing.T) { testRealFirewalld(t, backend) })
	}
}

// firewalldListen are the node's TCP listeners of the firewalld test.
var firewalldListen = []int{22, 80, 3000, 7070, 8080, 9191}

// firewalldWant is the state of each listened port, and of 8443 (allowed,
// nothing listens), per view; every one is firewalld's decision.
var firewalldWant = map[view]map[int]string{
	n2View: {22: exposure.Open, 80: exposure.Open, 8080: exposure.Open, 9191: exposure.Open, 8443: exposure.Closed,
		7070: exposure.Closed, 3000: exposure.Filtered},
	n0View: {22: exposure.Open, 3000: exposure.Open, 80: exposure.Filtered, 8080: exposure.Filtered,
		9191: exposure.Filtered, 8443: exposure.Filtered, 7070: exposure.Filtered},
}

func testRealFirewalld(t *testing.T, backend string) {
	lab := realLab(t, "firewalld", "firewall-cmd", "dbus-daemon")
	fw := reallab.StartFirewalld(t, lab.NodeNS, backend)
	for _, args := range [][]string{
		{"--add-port=8080/tcp"},
		{"--add-port=8443/tcp"},
		{"--add-port=5353/udp"},
		{"--add-service=http"},
		{"--add-rich-rule=rule family=ipv4 source address=192.0.2.0/24 port port=9191 protocol=tcp accept"},
		{"--add-rich-rule=rule family=ipv4 port port=7070 protocol=tcp reject type=tcp-reset"},
		{"--zone=work", "--add-source=" + labClient + "/32"},
		{"--zone=work", "--add-port=3000/tcp"},
	} {
		fw.MustCmd(args...)
	}
	for _, p := range firewalldListen {
		if _, err := lab.Listen(lab.NodeNS, "tcp4", fmt.Sprintf("0.0.0.0:%d", p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []view{n0View, n2View} {
		pc, err := reallab.UDPEcho(reallab.NamedNetns(lab.NodeNS), v.addr+":5353")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
	}
	for _, v := range []view{n0View, n2View} {
		rep := realAudit(t, lab, v)
		for port, state := range firewalldWant[v] {
			e := exposureAt(t, rep, "tcp", port)
			if e.State != state || e.Owner.Component != exposure.CompFirewalld {
				t.Errorf("%s tcp/%d: %s owned by %q (chain %s), want %s owned by firewalld", v.from, port, e.State,
					e.Owner.Component, e.Owner.Chain, state)
			}
			if wantPID := pidIf(state == exposure.Open); e.Listener.PID != wantPID {
				t.Errorf("%s tcp/%d: listener pid %d (%s), want %d", v.from, port, e.Listener.PID, e.Listener.Process, wantPID)
			}
			addr := fmt.Sprintf("%s:%d", v.addr, port)
			if state == exposure.Open {
				dialWorks(t, lab, addr)
			} else {
				dialFails(t, lab, addr)
			}
		}
		compareTCP(t, lab, rep, v)
		compareUDPAndICMP(t, lab, rep, v, []int{53, 5353, 5354})
	}
}

// pidIf is this process's pid when open, else 0 (no listener).
func pidIf(open bool) int {
	if open {
		return os.Getpid()
	}
	return 0
}
