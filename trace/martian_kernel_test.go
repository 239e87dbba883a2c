package trace_test

import (
	"cmp"
	"fmt"
	"net/netip"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// martianRules counts the probe in every PREROUTING table, then in INPUT
// or FORWARD, where it is dropped so that no reply moves OUTPUT counters.
// dnat adds a nat PREROUTING DNAT of 127.0.0.1:8080 (or [::1]:8080) to the
// node's n0 address.
func martianRules(v6, dnat bool) string {
	to, lo := "198.51.100.1:80", "127.0.0.1"
	if v6 {
		to, lo = "[2001:db8:1::1]:80", "::1"
	}
	nat := ""
	if dnat {
		nat = fmt.Sprintf("-A PREROUTING -d %s -p tcp --dport 8080 -j DNAT --to-destination %s\n", lo, to)
	}
	return "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\n" + nat + "COMMIT\n" +
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -j DROP\n-A FORWARD -p tcp -j DROP\nCOMMIT\n"
}

// martianProbe is one packet of the martian test.
type martianProbe struct {
	name     string
	src, dst string
	dport    uint16
	via      string // peer link it is sent from: c0 when empty
}

var martianProbes4 = []martianProbe{
	{name: "to 127.0.0.1", src: "198.18.0.5", dst: "127.0.0.1", dport: 8080},
	{name: "to 127.0.0.2", src: "198.18.0.5", dst: "127.0.0.2", dport: 8080},
	{name: "from 127.0.0.1", src: "127.0.0.1", dst: "198.51.100.1", dport: 80},
	{name: "from 127.0.0.2", src: "127.0.0.2", dst: "198.51.100.1", dport: 80},
	{name: "from 127.0.0.2 forwarded", src: "127.0.0.2", dst: "203.0.113.9", dport: 80},
	{name: "from 0.0.0.0", src: "0.0.0.0", dst: "198.51.100.1", dport: 80},
	{name: "to 0.0.0.7", src: "198.18.0.5", dst: "0.0.0.7", dport: 80},
	{name: "to 0.0.0.0", src: "198.18.0.5", dst: "0.0.0.0", dport: 80},
	{name: "from 0.0.0.5", src: "0.0.0.5", dst: "198.51.100.1", dport: 80},
	{name: "from multicast", src: "224.0.0.9", dst: "198.51.100.1", dport: 80},
	{name: "from limited broadcast", src: "255.255.255.255", dst: "198.51.100.1", dport: 80},
	{name: "zero source to limited broadcast", src: "0.0.0.0", dst: "255.255.255.255", dport: 80},
	{name: "plain", src: "198.18.0.5", dst: "198.51.100.1", dport: 80},
}

var martianProbes6 = []martianProbe{
	{name: "to ::1", src: "2001:db8:ff00::5", dst: "::1", dport: 8080},
	{name: "from ::1", src: "::1", dst: "2001:db8:1::1", dport: 80},
	{name: "from multicast", src: "ff02::9", dst: "2001:db8:1::1", dport: 80},
	{name: "to interface-local multicast", src: "2001:db8:ff00::5", dst: "ff01::1", dport: 80},
	{name: "plain", src: "2001:db8:ff00::5", dst: "2001:db8:1::1", dport: 80},
}

// localnetSetting is one route_localnet configuration of the node.
type localnetSetting struct {
	name    string
	all, n0 bool
}

var localnetSettings = []localnetSetting{
	{name: "route_localnet=0"},
	{name: "all=1", all: true},
	{name: "n0=1", n0: true},
}

// TestKernelMartians sends packets with loopback, zero, multicast and
// broadcast addresses into the node from the wire (veth n0), with
// route_localnet off and on (all, and the device alone), with and without
// a nat PREROUTING DNAT away from 127.0.0.1, and requires the kernel's
// per-rule counters to equal the traced path: PREROUTING rules count a
// martian before ip_route_input drops it; IPv6 drops ::1 before any rule.
func TestKernelMartians(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("needs root and the lab tools: %v", err)
	}
	lab := netns.New(t)
	agree, total := 0, 0
	for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
		for _, set := range localnetSettings {
			setLocalnet(t, lab, set)
			env := labEnv(lab)
			env.RouteLocalnet = map[string]bool{"all": set.all, "n0": set.n0, "n1": false, "n2": false}
			for _, dnat := range []bool{false, true} {
				for _, v6 := range []bool{false, true} {
					probes := martianProbes4
					if v6 {
						probes = martianProbes6
					}
					name := fmt.Sprintf("%s/%s/dnat=%v/v6=%v", b, set.name, dnat, v6)
					a := runMartians(t, lab, env, b, v6, martianRules(v6, dnat), probes, name)
					agree, total = agree+a, total+len(probes)
				}
			}
		}
	}
	setLocalnet(t, lab, localnetSetting{})
	t.Logf("martian agreement: %d/%d probes", agree, total)
}

func setLocalnet(t *testing.T, lab *netns.Lab, set localnetSetting) {
	t.Helper()
	v := func(on bool) string { return map[bool]string{false: "0", true: "1"}[on] }
	if _, err := lab.Run(lab.NodeNS, "", "sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet="+v(set.all),
		"net.ipv4.conf.n0.route_localnet="+v(set.n0)); err != nil {
		t.Fatalf("route_localnet: %v", err)
	}
}

func runMartians(t *testing.T, lab *netns.Lab, env *nf.Env, b netns.Backend, v6 bool, text string, probes []martianProbe, name string) int {
	t.Helper()
	agree := 0
	if err := lab.Reset(); err != nil {
		t.Fatalf("%s: reset: %v", name, err)
	}
	if err := lab.RestoreIptables(b, v6, text); err != nil {
		t.Fatalf("%s: restore: %v", name, err)
	}
	fam := nf.IPv4
	if v6 {
		fam = nf.IPv6
	}
	rs, err := iptables.Parse([]byte(text), iptables.Options{File: name, Family: fam})
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("%s: validate: %v", name, err)
	}
	sim := trace.New(rs, env)
	loaded := map[string]bool{"raw": true, "mangle": true, "nat": true, "filter": true}
	for _, mp := range probes {
		p := netns.Probe{Src: netip.MustParseAddr(mp.src), Dst: netip.MustParseAddr(mp.dst), Proto: netns.ProtoTCP,
			SPort: 40000, DPort: mp.dport, TCPFlags: netns.SYN, Via: cmp.Or(mp.via, "c0")}
		if err := lab.FlushConntrack(); err != nil {
			t.Fatal(err)
		}
		if err := lab.ZeroCounters(b, v6); err != nil {
			t.Fatal(err)
		}
		if err := lab.Inject(p); err != nil {
			t.Fatalf("%s %s: inject: %v", name, mp.name, err)
		}
		got := onlyTables(kernelCounts(t, lab, b, v6), loaded)
		res, err := sim.Trace(probeInput(p))
		if err != nil {
			t.Fatalf("%s %s: trace: %v", name, mp.name, err)
		}
		if len(res.Outcomes) != 1 {
			t.Errorf("%s %s: got %d outcomes, want 1", name, mp.name, len(res.Outcomes))
			continue
		}
		if want := keys(pathCounts(res.Outcomes[0])); keys(got) != want {
			t.Errorf("%s %s:\nkernel:    %s\nsimulated: %s (%s, %v)", name, mp.name, keys(got), want,
				res.Outcomes[0].Verdict, res.Outcomes[0].Assumptions)
			continue
		}
		agree++
	}
	return agree
}
