package trace_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// TestRPFilterMartians: fib_validate_source's reverse-path filter on
// sources routed back by the input device, another device (the default
// route included), a multipath route, an unreachable route and none;
// strict, loose, off (the maximum of the device's and all's) and
// unknown; local and forwarded alike; routes not complete.
func TestRPFilterMartians(t *testing.T) {
	rules := "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp\nCOMMIT\n" +
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
	const local, fwd = "192.0.2.1", "10.1.1.9"
	pre := "raw/PREROUTING#1 raw/PREROUTING#P"
	martian := func(src string) string {
		return "martian source " + src + " from eth0: the kernel drops it after PREROUTING (ip_route_input)"
	}
	routes := []nf.Route{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Iface: "eth0"},
		{Prefix: netip.MustParsePrefix("10.1.1.0/24"), Iface: "eth1"},
		{Prefix: netip.MustParsePrefix("10.7.0.0/16"), Iface: "eth1"},
		{Prefix: netip.MustParsePrefix("10.7.0.0/16"), Iface: "eth0"},
		{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Unreachable: true},
		{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Iface: "eth1"},
	}
	strictOther := "rp_filter 1 (strict; the maximum of eth0's and all's): fib_validate_source refuses the source, whose route back leaves by eth1, not eth0"
	tests := []struct {
		name     string
		src, dst string
		rpf      map[string]int
		noDef    bool
		partial  bool
		want     martianView
	}{
		{"strict, routed back by eth0", "192.0.2.7", local, map[string]int{"all": 1, "eth0": 0}, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"strict, default route via eth1", "8.8.8.8", local, map[string]int{"all": 1, "eth0": 0}, false, false,
			martianView{"DROP", "none", local, pre, []string{strictOther, martian("8.8.8.8")}}},
		{"strict on the device, forwarded", "8.8.8.8", fwd, map[string]int{"all": 0, "eth0": 1}, false, false,
			martianView{"DROP", "none", fwd, pre, []string{strictOther, martian("8.8.8.8")}}},
		{"strict, multipath with an eth0 next hop", "10.7.3.3", local, map[string]int{"*": 1, "all": 0}, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"loose (max of 1 and 2), default route", "8.8.8.8", local, map[string]int{"all": 1, "eth0": 2}, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"loose, unreachable", "198.18.0.5", fwd, map[string]int{"all": 2}, false, false,
			martianView{"DROP", "none", fwd, pre, []string{"rp_filter 2 (the maximum of eth0's and all's): reverse-path filtering (fib_validate_source) refuses the source: the route back to 198.18.0.5 (198.18.0.0/15) is unreachable", martian("198.18.0.5")}}},
		{"loose, no route at all", "8.8.8.8", local, map[string]int{"all": 2}, true, false,
			martianView{"DROP", "none", local, pre, []string{"rp_filter 2 (the maximum of eth0's and all's): reverse-path filtering (fib_validate_source) refuses the source: no route leads back to 8.8.8.8", martian("8.8.8.8")}}},
		{"loose, subnet broadcast source", "192.0.2.255", local, map[string]int{"all": 2}, false, false,
			martianView{"DROP", "none", local, pre, []string{"rp_filter 2 (the maximum of eth0's and all's): reverse-path filtering (fib_validate_source) refuses the source: 192.0.2.255 is a broadcast address of the node, not a unicast route", martian("192.0.2.255")}}},
		{"off", "198.18.0.5", local, map[string]int{"all": 0, "eth0": 0}, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"unknown, unreachable: taken as off, unsaid", "198.18.0.5", local, nil, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"unknown, routed back by eth0: nothing said", "192.0.2.7", local, nil, false, false,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", nil}},
		{"strict, routes partial and silent on the source", "8.8.8.8", local, map[string]int{"all": 1, "eth0": 1}, true, true,
			martianView{"ACCEPT", "local", local, pre + " filter/INPUT#P", []string{"rp_filter 1 (the maximum of eth0's and all's): the source 8.8.8.8 taken as routed back via eth0 (the node's routes do not tell)"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := pkt(nf.ProtoTCP, tc.src, tc.dst, 80, "eth0")
			rs := loadFamily(t, in, rules)
			env := nf.NewEnv(netip.MustParseAddr(local), netip.MustParseAddr("10.1.1.1"))
			env.Ifaces = []nf.Iface{
				{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix(local + "/24")}},
				{Name: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix("10.1.1.1/24")}},
			}
			env.Routes = routes
			if tc.noDef {
				env.Routes = routes[:len(routes)-1]
			}
			env.RoutesComplete = !tc.partial
			env.RPFilter = tc.rpf
			res, err := trace.New(rs, env).Trace(in)
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
