package trace_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// rpfRoutes are the routes TestKernelRPFilter adds to the lab's node:
// 10.2.0.0/16 back via n2, 10.12.0.0/16 multipath via n1 and n2,
// 10.66.0.0/16 a blackhole. The lab has 198.18.0.0/15 unreachable and the
// default route via n1.
var rpfRoutes = [][]string{
	{"route", "add", "10.2.0.0/16", "via", "192.0.2.130", "dev", "n2"},
	{"route", "add", "10.12.0.0/16", "nexthop", "via", "203.0.113.2", "dev", "n1", "nexthop", "via", "192.0.2.130", "dev", "n2"},
	{"route", "add", "blackhole", "10.66.0.0/16"},
}

// rpfEnvRoutes are rpfRoutes as the simulator holds them: a multipath
// route is one route per next hop, all of the same prefix.
var rpfEnvRoutes = []nf.Route{
	{Prefix: netip.MustParsePrefix("10.2.0.0/16"), Iface: "n2"},
	{Prefix: netip.MustParsePrefix("10.12.0.0/16"), Iface: "n1"},
	{Prefix: netip.MustParsePrefix("10.12.0.0/16"), Iface: "n2"},
	{Prefix: netip.MustParsePrefix("10.66.0.0/16"), Unreachable: true},
}

// rpfProbes come in by c0 (n0) unless via says c2 (n2) or s0 (n1): sources
// whose route back leaves by the input device, by another one (a
// connected subnet, a gateway route, the default route, a multipath route
// with or without the input device), by no device (unreachable,
// blackhole, a broadcast address of the node, none at all when the
// default route is removed), and the node's own; to local, broadcast and
// forwarded destinations.
var rpfProbes = []martianProbe{
	{name: "n0's subnet to n0", src: "198.51.100.2", dst: "198.51.100.1", dport: 80},
	{name: "n1's subnet to n0", src: "203.0.113.7", dst: "198.51.100.1", dport: 80},
	{name: "via n2 to n0", src: "10.2.0.5", dst: "198.51.100.1", dport: 80},
	{name: "multipath n1+n2 to n0", src: "10.12.0.5", dst: "198.51.100.1", dport: 80},
	{name: "default route to n0", src: "8.8.8.8", dst: "198.51.100.1", dport: 80},
	{name: "unreachable to n0", src: "198.18.0.5", dst: "198.51.100.1", dport: 80},
	{name: "blackhole to n0", src: "10.66.0.5", dst: "198.51.100.1", dport: 80},
	{name: "n0's subnet broadcast to n0", src: "198.51.100.255", dst: "198.51.100.1", dport: 80},
	{name: "n0's network address to n0", src: "198.51.100.0", dst: "198.51.100.1", dport: 80},
	{name: "default route to n2's address", src: "8.8.8.8", dst: "192.0.2.129", dport: 80},
	{name: "default route to the subnet broadcast", src: "8.8.8.8", dst: "198.51.100.255", dport: 80},
	{name: "default route forwarded out n1", src: "8.8.8.8", dst: "203.0.113.9", dport: 80},
	{name: "via n2 forwarded out n1", src: "10.2.0.5", dst: "203.0.113.9", dport: 80},
	{name: "n0's subnet forwarded out n1", src: "198.51.100.2", dst: "203.0.113.9", dport: 80},
	{name: "default route forwarded back out n0", src: "8.8.8.8", dst: "198.51.100.77", dport: 80},
	{name: "unreachable forwarded out n1", src: "198.18.0.5", dst: "203.0.113.9", dport: 80},
	{name: "via n2 from c2 to n2", src: "10.2.0.5", dst: "192.0.2.129", dport: 80, via: "c2"},
	{name: "multipath from c2 to n2", src: "10.12.0.5", dst: "192.0.2.129", dport: 80, via: "c2"},
	{name: "default route from c2 to n2", src: "8.8.8.8", dst: "192.0.2.129", dport: 80, via: "c2"},
	{name: "via n2 from c2 forwarded out n1", src: "10.2.0.5", dst: "203.0.113.9", dport: 80, via: "c2"},
	{name: "default route from s0 to n1", src: "8.8.8.8", dst: "203.0.113.1", dport: 80, via: "s0"},
	{name: "multipath from s0 to n1", src: "10.12.0.5", dst: "203.0.113.1", dport: 80, via: "s0"},
	{name: "via n2 from s0 forwarded out n0", src: "10.2.0.5", dst: "198.51.100.77", dport: 80, via: "s0"},
	{name: "n2's address to n0", src: "192.0.2.129", dst: "198.51.100.1", dport: 80},
	{name: "n0's address to n0", src: "198.51.100.1", dst: "198.51.100.1", dport: 80},
	{name: "127.0.0.2 to n0", src: "127.0.0.2", dst: "198.51.100.1", dport: 80},
	{name: "127.0.0.2 forwarded out n1", src: "127.0.0.2", dst: "203.0.113.9", dport: 80},
}

// rpfSetting is one rp_filter (and accept_local) configuration.
type rpfSetting struct {
	name            string
	all, n0, n1, n2 int
	acceptLocal     bool // accept_local on all
}

var rpfSettings = []rpfSetting{
	{name: "rp_filter=0"},
	{name: "all=1", all: 1},
	{name: "all=2", all: 2},
	{name: "n0=1", n0: 1},
	{name: "n0=2", n0: 2},
	{name: "n2=1", n2: 1},
	{name: "all=1 n0=2 (max 2 on n0)", all: 1, n0: 2},
	{name: "all=2 n0=1 (max 2 on n0)", all: 2, n0: 1},
	{name: "all=1 accept_local=1", all: 1, acceptLocal: true},
	{name: "all=2 accept_local=1", all: 2, acceptLocal: true},
}

// TestKernelRPFilter sends IPv4 packets from the wire into the node with
// reverse-path filtering off, strict and loose (on all, on the input
// device, on another device, and combined: the maximum counts) and
// requires the kernel's per-rule counters to equal the traced path:
// fib_validate_source drops, after PREROUTING, a packet whose source has
// no route back (strict: none by the input device), local and forwarded
// destinations alike. It runs once more without the default route, where
// a source no route covers has no route back at all.
func TestKernelRPFilter(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("needs root and the lab tools: %v", err)
	}
	lab := netns.New(t)
	for _, r := range rpfRoutes {
		if _, err := lab.Run(lab.NodeNS, "", append([]string{"ip"}, r...)...); err != nil {
			t.Fatalf("ip %v: %v", r, err)
		}
	}
	setLocalnet(t, lab, localnetSetting{all: true})
	agree, total := 0, 0
	for _, noDefault := range []bool{false, true} {
		settings := rpfSettings
		if noDefault {
			settings = settings[:3]
			if _, err := lab.Run(lab.NodeNS, "", "ip", "route", "del", "default"); err != nil {
				t.Fatalf("delete the default route: %v", err)
			}
		}
		for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
			for _, set := range settings {
				setRPFilter(t, lab, set)
				env := labEnv(lab)
				env.Routes = append(env.Routes, rpfEnvRoutes...)
				if noDefault {
					env.Routes = slices.DeleteFunc(env.Routes, func(r nf.Route) bool { return r.Prefix == netip.MustParsePrefix("0.0.0.0/0") })
				}
				env.RouteLocalnet = map[string]bool{"all": true, "n0": false, "n1": false, "n2": false}
				env.AcceptLocal = map[string]bool{"all": set.acceptLocal, "n0": false, "n1": false, "n2": false}
				env.RPFilter = map[string]int{"all": set.all, "n0": set.n0, "n1": set.n1, "n2": set.n2}
				name := fmt.Sprintf("%s/%s/no-default=%v", b, set.name, noDefault)
				agree += runMartians(t, lab, env, b, false, martianRules(false, false), rpfProbes, name)
				total += len(rpfProbes)
			}
		}
	}
	if _, err := lab.Run(lab.NodeNS, "", "ip", "route", "add", "default", "via", netns.ServerGateway4.String()); err != nil {
		t.Fatalf("restore the default route: %v", err)
	}
	setRPFilter(t, lab, rpfSetting{})
	setLocalnet(t, lab, localnetSetting{})
	t.Logf("rp_filter agreement: %d/%d probes", agree, total)
}

func setRPFilter(t *testing.T, lab *netns.Lab, set rpfSetting) {
	t.Helper()
	al := map[bool]string{false: "0", true: "1"}[set.acceptLocal]
	if _, err := lab.Run(lab.NodeNS, "", "sysctl", "-q", "-w",
		fmt.Sprintf("net.ipv4.conf.all.rp_filter=%d", set.all), fmt.Sprintf("net.ipv4.conf.n0.rp_filter=%d", set.n0),
		fmt.Sprintf("net.ipv4.conf.n1.rp_filter=%d", set.n1), fmt.Sprintf("net.ipv4.conf.n2.rp_filter=%d", set.n2),
		"net.ipv4.conf.all.accept_local="+al, "net.ipv4.conf.n0.accept_local=0", "net.ipv4.conf.n1.accept_local=0",
		"net.ipv4.conf.n2.accept_local=0"); err != nil {
		t.Fatalf("rp_filter: %v", err)
	}
}
