package trace_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

// localSourceRules are martianRules with, when dnat is set, nat
// PREROUTING DNATs of the node's n0 address: port 8080 to a host behind
// n1 (forwarded), port 8081 to n2's address (local).
func localSourceRules(v6, dnat bool) string {
	text := martianRules(v6, false)
	if !dnat {
		return text
	}
	n0, fwd, n2 := "198.51.100.1", "203.0.113.9:80", "192.0.2.129:80"
	if v6 {
		n0, fwd, n2 = "2001:db8:1::1", "[2001:db8:2::9]:80", "[2001:db8:3::1]:80"
	}
	nat := fmt.Sprintf("-A PREROUTING -d %s -p tcp --dport 8080 -j DNAT --to-destination %s\n", n0, fwd) +
		fmt.Sprintf("-A PREROUTING -d %s -p tcp --dport 8081 -j DNAT --to-destination %s\n", n0, n2)
	const mark = "-A PREROUTING -p tcp\nCOMMIT\n*filter"
	if !strings.Contains(text, mark) {
		panic("localSourceRules: nat PREROUTING not found")
	}
	return strings.Replace(text, mark, "-A PREROUTING -p tcp\n"+nat+"COMMIT\n*filter", 1)
}

// The probes arrive from the wire on n0 (198.51.100.1, 2001:db8:1::1);
// n1 (203.0.113.1) leads to the default route, n2 holds 192.0.2.129.
var localSourceProbes4 = []martianProbe{
	{name: "n0's address to n0", src: "198.51.100.1", dst: "198.51.100.1", dport: 80},
	{name: "n1's address to n0", src: "203.0.113.1", dst: "198.51.100.1", dport: 80},
	{name: "n2's address to n2", src: "192.0.2.129", dst: "192.0.2.129", dport: 80},
	{name: "n0's address to the subnet broadcast", src: "198.51.100.1", dst: "198.51.100.255", dport: 80},
	{name: "n0's address forwarded out n1", src: "198.51.100.1", dst: "203.0.113.9", dport: 80},
	{name: "n1's address forwarded out n1", src: "203.0.113.1", dst: "203.0.113.9", dport: 80},
	{name: "n2's address forwarded back out n0", src: "192.0.2.129", dst: "198.51.100.77", dport: 80},
	{name: "n0's address DNATed away (8080)", src: "198.51.100.1", dst: "198.51.100.1", dport: 8080},
	{name: "n1's address DNATed to n2 (8081)", src: "203.0.113.1", dst: "198.51.100.1", dport: 8081},
	{name: "127.0.0.1 to n0", src: "127.0.0.1", dst: "198.51.100.1", dport: 80},
	{name: "127.0.0.2 to n0", src: "127.0.0.2", dst: "198.51.100.1", dport: 80},
	{name: "127.0.0.2 forwarded out n1", src: "127.0.0.2", dst: "203.0.113.9", dport: 80},
	{name: "127.0.0.2 forwarded back out n0", src: "127.0.0.2", dst: "198.51.100.77", dport: 80},
	{name: "plain", src: "198.18.0.5", dst: "198.51.100.1", dport: 80},
	{name: "plain forwarded back out n0", src: "198.18.0.5", dst: "198.51.100.77", dport: 80},
}

var localSourceProbes6 = []martianProbe{
	{name: "n0's address to n0", src: "2001:db8:1::1", dst: "2001:db8:1::1", dport: 80},
	{name: "n1's address to n0", src: "2001:db8:2::1", dst: "2001:db8:1::1", dport: 80},
	{name: "n0's address forwarded out n1", src: "2001:db8:1::1", dst: "2001:db8:2::9", dport: 80},
	{name: "n0's address DNATed away (8080)", src: "2001:db8:1::1", dst: "2001:db8:1::1", dport: 8080},
	{name: "n1's address DNATed to n2 (8081)", src: "2001:db8:2::1", dst: "2001:db8:1::1", dport: 8081},
	{name: "plain", src: "2001:db8:ff00::5", dst: "2001:db8:1::1", dport: 80},
}

// acceptSetting is one accept_local configuration of the node.
type acceptSetting struct {
	name        string
	all, n0, n1 bool
}

var acceptSettings = []acceptSetting{
	{name: "accept_local=0"},
	{name: "all=1", all: true},
	{name: "n0=1", n0: true},
	{name: "n1=1 (not the input device)", n1: true},
}

// TestKernelLocalSource sends packets whose source is an address of the
// node (an interface's, or 127.0.0.0/8 with route_localnet on) into the
// node from the wire (veth n0), to a local, broadcast or forwarded
// destination, with and without nat PREROUTING DNATs, with accept_local
// off and on (all, the input device, another device), and requires the
// kernel's per-rule counters to equal the traced path: fib_validate_source
// drops IPv4 ones after PREROUTING unless accept_local is on; IPv6 has no
// such check.
func TestKernelLocalSource(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("needs root and the lab tools: %v", err)
	}
	lab := netns.New(t)
	setLocalnet(t, lab, localnetSetting{all: true})
	agree, total := 0, 0
	for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
		for _, set := range acceptSettings {
			setAcceptLocal(t, lab, set)
			env := labEnv(lab)
			env.RouteLocalnet = map[string]bool{"all": true, "n0": false, "n1": false, "n2": false}
			env.AcceptLocal = map[string]bool{"all": set.all, "n0": set.n0, "n1": set.n1, "n2": false}
			for _, dnat := range []bool{false, true} {
				for _, v6 := range []bool{false, true} {
					probes := localSourceProbes4
					if v6 {
						probes = localSourceProbes6
					}
					name := fmt.Sprintf("%s/%s/dnat=%v/v6=%v", b, set.name, dnat, v6)
					a := runMartians(t, lab, env, b, v6, localSourceRules(v6, dnat), probes, name)
					agree, total = agree+a, total+len(probes)
				}
			}
		}
	}
	setAcceptLocal(t, lab, acceptSetting{})
	setLocalnet(t, lab, localnetSetting{})
	t.Logf("local-source agreement: %d/%d probes", agree, total)
}

func setAcceptLocal(t *testing.T, lab *netns.Lab, set acceptSetting) {
	t.Helper()
	v := func(on bool) string { return map[bool]string{false: "0", true: "1"}[on] }
	if _, err := lab.Run(lab.NodeNS, "", "sysctl", "-q", "-w", "net.ipv4.conf.all.accept_local="+v(set.all),
		"net.ipv4.conf.n0.accept_local="+v(set.n0), "net.ipv4.conf.n1.accept_local="+v(set.n1),
		"net.ipv4.conf.n2.accept_local=0"); err != nil {
		t.Fatalf("accept_local: %v", err)
	}
}
