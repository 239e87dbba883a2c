package trace_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// martianView is what a martian case checks of the one outcome.
type martianView struct {
	Verdict, Delivered, Dst, Path string
	Assumptions                   []string
}

func TestMartians(t *testing.T) {
	rules := "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
	dnat := "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d 127.0.0.1 -p tcp --dport 8080 -j DNAT --to-destination " + local + ":80\nCOMMIT\n"
	rules6 := "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n"
	off := map[string]bool{"all": false, "eth0": false}
	tests := []struct {
		name     string
		dnat     bool
		rules    string
		in       trace.Input
		localnet map[string]bool
		want     martianView
	}{
		{"to 127.0.0.1, route_localnet unknown: taken as 0", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), nil,
			martianView{"DROP", "none", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"route_localnet of eth0 unknown: taken as 0, the kernel default",
				"martian destination 127.0.0.1 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"to 127.0.0.1, route_localnet 0", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), off,
			martianView{"DROP", "none", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"route_localnet=0 on eth0 and all",
				"martian destination 127.0.0.1 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"to 127.0.0.1, route_localnet 1 on all", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), map[string]bool{"all": true},
			martianView{"ACCEPT", "local", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", nil}},
		{"to 127.0.0.1, route_localnet 1 on the device only", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), map[string]bool{"eth0": true},
			martianView{"ACCEPT", "local", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", nil}},
		{"to 127.0.0.1, route_localnet 1 on another device", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), map[string]bool{"all": false, "eth0": false, "eth1": true},
			martianView{"DROP", "none", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"route_localnet=0 on eth0 and all",
				"martian destination 127.0.0.1 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"to 127.0.0.1 DNATed to a node address: routed by the new destination", true, rules, pkt(nf.ProtoTCP, "198.51.100.7", "127.0.0.1", 8080, "eth0"), off,
			martianView{"ACCEPT", "local", local, "raw/PREROUTING#1 raw/PREROUTING#P nat/PREROUTING#1 filter/INPUT#P", nil}},
		{"to 127.0.0.1 on lo: not checked", false, rules, pkt(nf.ProtoTCP, "127.0.0.1", "127.0.0.1", 8080, "lo"), off,
			martianView{"ACCEPT", "local", "127.0.0.1", "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", nil}},
		{"from 127.0.0.1, route_localnet 1: lo's own address, fib_validate_source", false, rules, pkt(nf.ProtoTCP, "127.0.0.1", local, 80, "eth0"), map[string]bool{"all": true},
			martianView{"DROP", "none", local, "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"accept_local of eth0 unknown: taken as 0, the kernel default (fib_validate_source refuses a source that is an address of the node)",
				"martian source 127.0.0.1 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"from 127.0.0.2, route_localnet 1: passes without rp_filter", false, rules, pkt(nf.ProtoTCP, "127.0.0.2", local, 80, "eth0"), map[string]bool{"all": true},
			martianView{"ACCEPT", "local", local, "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", []string{
				"rp_filter=0 on eth0 and all, no ip rules or added local routes: fib_validate_source's full check would refuse the 127.0.0.0/8 source"}}},
		{"from 127.0.0.2, route_localnet 0", false, rules, pkt(nf.ProtoTCP, "127.0.0.2", local, 80, "eth0"), off,
			martianView{"DROP", "none", local, "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"route_localnet=0 on eth0 and all",
				"martian source 127.0.0.2 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"from a multicast address", false, rules, pkt(nf.ProtoTCP, "224.0.0.9", local, 80, "eth0"), nil,
			martianView{"DROP", "none", local, "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"martian source 224.0.0.9 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"from 0.0.0.0", false, rules, pkt(nf.ProtoTCP, "0.0.0.0", local, 80, "eth0"), nil,
			martianView{"DROP", "none", local, "raw/PREROUTING#1 raw/PREROUTING#P", []string{
				"martian source 0.0.0.0 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"from 0.0.0.0 to the limited broadcast (DHCP)", false, rules, pkt(nf.ProtoTCP, "0.0.0.0", "255.255.255.255", 80, "eth0"), nil,
			martianView{"ACCEPT", "local", "255.255.255.255", "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", nil}},
		{"from 0.0.0.5: not martian since Linux 5.3", false, rules, pkt(nf.ProtoTCP, "0.0.0.5", local, 80, "eth0"), nil,
			martianView{"ACCEPT", "local", local, "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", nil}},
		{"IPv6 to ::1: dropped before PREROUTING", false, rules6, pkt(nf.ProtoTCP, "2001:db8::7", "::1", 8080, "eth0"), map[string]bool{"all": true},
			martianView{"DROP", "none", "::1", "", []string{
				"loopback address ::1 from eth0: the kernel drops it on receipt, before PREROUTING (ip6_rcv_core)"}}},
		{"IPv6 from ::1", false, rules6, pkt(nf.ProtoTCP, "::1", "2001:db8::1", 80, "eth0"), nil,
			martianView{"DROP", "none", "2001:db8::1", "", []string{
				"loopback address ::1 from eth0: the kernel drops it on receipt, before PREROUTING (ip6_rcv_core)"}}},
		{"IPv6 to ::1 on lo", false, rules6, pkt(nf.ProtoTCP, "::1", "::1", 8080, "lo"), nil,
			martianView{"ACCEPT", "local", "::1", "raw/PREROUTING#1 raw/PREROUTING#P", nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := []string{tc.rules}
			if tc.dnat {
				text = append(text, dnat)
			}
			rs := loadFamily(t, tc.in, text...)
			env := nf.NewEnv(netip.MustParseAddr(local), netip.MustParseAddr("2001:db8::1"))
			env.RouteLocalnet = tc.localnet
			res, err := trace.New(rs, env).Trace(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Outcomes) != 1 {
				t.Fatalf("got %d outcomes, want 1", len(res.Outcomes))
			}
			if diff := cmp.Diff(tc.want, martianOf(res.Outcomes[0])); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

// loadFamily loads rules of the input packet's family.
func loadFamily(t *testing.T, in trace.Input, texts ...string) *nf.Ruleset {
	t.Helper()
	fam := nf.IPv4
	if in.Packet.Dst.Is6() {
		fam = nf.IPv6
	}
	rs := &nf.Ruleset{}
	for _, text := range texts {
		part, err := iptables.Parse([]byte(text), iptables.Options{File: "case", Family: fam})
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		rs.Tables = append(rs.Tables, part.Tables...)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return rs
}

func martianOf(o trace.Outcome) martianView {
	var steps []string
	for _, s := range o.Path {
		if s.Policy {
			steps = append(steps, s.Table+"/"+s.Chain+"#P")
		} else {
			steps = append(steps, s.Table+"/"+s.Chain+"#"+itoa(s.Rule))
		}
	}
	v := martianView{o.Verdict, o.Delivered, o.Final.Dst, strings.Join(steps, " "), nil}
	if len(o.Assumptions) > 0 {
		v.Assumptions = o.Assumptions
	}
	return v
}

// TestLocalSourceMartians: fib_validate_source refuses, after
// PREROUTING, an IPv4 packet from the wire whose source is an address of
// the node unless accept_local is 1 on the input device or all; DNAT does
// not help (the source is unchanged), ip_forward=0 and missing routes
// drop first, IPv6 has no such check.
func TestLocalSourceMartians(t *testing.T) {
	rules := "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
	dnat := "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d " + local + " -p tcp --dport 8080 -j DNAT --to-destination 198.51.100.9:80\nCOMMIT\n"
	rules6 := "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
	const eth1Addr = "10.1.1.1"
	off := map[string]bool{"all": false, "eth0": false}
	pre := "raw/PREROUTING#1 raw/PREROUTING#P"
	martian := func(src string) string {
		return "martian source " + src + " from eth0: the kernel drops it after PREROUTING (ip_route_input)"
	}
	refused := "accept_local=0 on eth0 and all: fib_validate_source refuses a source that is an address of the node"
	strict := func(src string) string {
		return "rp_filter of eth0 and all not strict (their maximum is not 1): with accept_local=1 strict reverse-path filtering still refuses the local source " + src + ", which is not an address of eth0"
	}
	tests := []struct {
		name      string
		dnat      bool
		rules     string
		in        trace.Input
		accept    map[string]bool
		noForward bool
		want      martianView
	}{
		{"own address, accept_local unknown: taken as 0", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), nil, false,
			martianView{"DROP", "none", local, pre, []string{
				"accept_local of eth0 unknown: taken as 0, the kernel default (fib_validate_source refuses a source that is an address of the node)",
				martian(local)}}},
		{"own address, accept_local 0", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), off, false,
			martianView{"DROP", "none", local, pre, []string{refused, martian(local)}}},
		{"own address, accept_local 1 on all", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), map[string]bool{"all": true}, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"own address, accept_local 1 on the device", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), map[string]bool{"all": false, "eth0": true}, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"own address, accept_local 1 on every device (*)", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), map[string]bool{"all": false, "*": true}, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"own address, accept_local 1 on another device", false, rules, pkt(nf.ProtoTCP, local, local, 80, "eth0"), map[string]bool{"all": false, "eth0": false, "eth1": true}, false,
			martianView{"DROP", "none", local, pre, []string{refused, martian(local)}}},
		{"another interface's address to the node", false, rules, pkt(nf.ProtoTCP, eth1Addr, local, 80, "eth0"), off, false,
			martianView{"DROP", "none", local, pre, []string{refused, martian(eth1Addr)}}},
		{"another interface's address, accept_local 1: strict rp_filter would refuse it", false, rules, pkt(nf.ProtoTCP, eth1Addr, local, 80, "eth0"), map[string]bool{"all": true}, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", []string{strict(eth1Addr)}}},
		{"own address to the subnet broadcast", false, rules, pkt(nf.ProtoTCP, local, "192.0.2.255", 80, "eth0"), off, false,
			martianView{"DROP", "none", "192.0.2.255", pre, []string{refused, martian(local)}}},
		{"own address forwarded", false, rules, pkt(nf.ProtoTCP, local, "198.51.100.9", 80, "eth0"), off, false,
			martianView{"DROP", "none", "198.51.100.9", pre, []string{refused, martian(local)}}},
		{"own address forwarded, accept_local 1", false, rules, pkt(nf.ProtoTCP, local, "198.51.100.9", 80, "eth0"), map[string]bool{"eth0": true}, false,
			martianView{"ACCEPT", "forward", "198.51.100.9", pre + " filter/FORWARD#P", nil}},
		{"own address forwarded with TTL 1: the martian drop comes first", false, rules, withTTL(pkt(nf.ProtoTCP, local, "198.51.100.9", 80, "eth0"), 1), off, false,
			martianView{"DROP", "none", "198.51.100.9", pre, []string{refused, martian(local)}}},
		{"own address, DNAT away: the source still is local", true, rules, pkt(nf.ProtoTCP, local, local, 8080, "eth0"), off, false,
			martianView{"DROP", "none", "198.51.100.9", pre + " nat/PREROUTING#1", []string{refused, martian(local)}}},
		{"own address, DNAT away, accept_local 1", true, rules, pkt(nf.ProtoTCP, local, local, 8080, "eth0"), map[string]bool{"all": true}, false,
			martianView{"ACCEPT", "forward", "198.51.100.9", pre + " nat/PREROUTING#1 filter/FORWARD#P", nil}},
		{"own address, ip_forward=0: no route, not a martian", false, rules, pkt(nf.ProtoTCP, local, "198.51.100.9", 80, "eth0"), off, true,
			martianView{"DROP", "none", "198.51.100.9", pre, []string{"the node does not forward (ip_forward=0)"}}},
		{"own address to an unrouted destination: no route first", false, rules, pkt(nf.ProtoTCP, local, "203.0.113.9", 80, "eth0"), off, false,
			martianView{"DROP", "none", "203.0.113.9", pre, []string{"no route to 203.0.113.9: the kernel drops the packet"}}},
		{"127.0.0.2 forwarded out another interface: fast path", false, rules, pkt(nf.ProtoTCP, "127.0.0.2", "198.51.100.9", 80, "eth0"), off, false,
			martianView{"ACCEPT", "forward", "198.51.100.9", pre + " filter/FORWARD#P", []string{
				"rp_filter=0 on eth0 and all, no ip rules or added local routes: fib_validate_source's full check would refuse the 127.0.0.0/8 source"}}},
		{"127.0.0.2 forwarded back out its input interface: full check", false, rules, pkt(nf.ProtoTCP, "127.0.0.2", "192.0.2.77", 80, "eth0"), off, false,
			martianView{"DROP", "none", "192.0.2.77", pre, []string{
				"send_redirects=1 on eth0 or all (the kernel default): forwarded back out eth0, the packet gets fib_validate_source's full check, which refuses a source with a local route",
				martian("127.0.0.2")}}},
		{"127.0.0.1 with accept_local 1: lo's address, not eth0's", false, rules, pkt(nf.ProtoTCP, "127.0.0.1", local, 80, "eth0"), map[string]bool{"all": true}, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", []string{strict("127.0.0.1")}}},
		{"a remote source routed back via eth1: only rp_filter could refuse it", false, rules, pkt(nf.ProtoTCP, "198.51.100.7", local, 80, "eth0"), off, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"on lo: not checked", false, rules, pkt(nf.ProtoTCP, local, local, 80, "lo"), off, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"IPv6 own address: no such check", false, rules6, pkt(nf.ProtoTCP, "2001:db8::1", "2001:db8::1", 80, "eth0"), off, false,
			martianView{"ACCEPT", "local", "2001:db8::1", pre + " filter/INPUT#P", nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := []string{tc.rules}
			if tc.dnat {
				text = append(text, dnat)
			}
			rs := loadFamily(t, tc.in, text...)
			env := nf.NewEnv(netip.MustParseAddr(local), netip.MustParseAddr(eth1Addr), netip.MustParseAddr("2001:db8::1"))
			env.Ifaces = []nf.Iface{
				{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix(local + "/24"), netip.MustParsePrefix("2001:db8::1/64")}},
				{Name: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix(eth1Addr + "/24")}},
				{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
			}
			env.Routes = []nf.Route{
				{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Iface: "eth0"},
				{Prefix: netip.MustParsePrefix("10.1.1.0/24"), Iface: "eth1"},
				{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Iface: "eth1"},
				{Prefix: netip.MustParsePrefix("2001:db8::/64"), Iface: "eth0"},
			}
			env.RoutesComplete = true
			env.RouteLocalnet = map[string]bool{"all": true}
			env.AcceptLocal = tc.accept
			env.NoForwarding = tc.noForward
			res, err := trace.New(rs, env).Trace(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Outcomes) != 1 {
				t.Fatalf("got %d outcomes, want 1", len(res.Outcomes))
			}
			if diff := cmp.Diff(tc.want, martianOf(res.Outcomes[0])); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}
