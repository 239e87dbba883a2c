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
				"accept_local=0 (the kernel default): fib_validate_source rejects a source that is an address of the node",
				"martian source 127.0.0.1 from eth0: the kernel drops it after PREROUTING (ip_route_input)"}}},
		{"from 127.0.0.2, route_localnet 1: passes without rp_filter", false, rules, pkt(nf.ProtoTCP, "127.0.0.2", local, 80, "eth0"), map[string]bool{"all": true},
			martianView{"ACCEPT", "local", local, "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#P", []string{
				"rp_filter=0 on eth0: reverse-path filtering would reject the 127.0.0.0/8 source"}}},
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
