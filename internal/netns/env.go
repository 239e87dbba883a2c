package netns

import (
	"net/netip"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Env describes the lab's node to the simulator: its addresses and
// interfaces, and its whole routing table (connected subnets, default
// routes via the server side, unreachable probe-source ranges), so that
// output interfaces and addrtype lookups come out as the kernel's.
func (l *Lab) Env() *nf.Env {
	env := nf.NewEnv()
	env.RoutesComplete = true
	for _, k := range l.Links {
		ifc := nf.Iface{Name: k.Name, MAC: k.MAC.String()}
		for _, p := range []netip.Prefix{k.Addr4, k.Addr6} {
			env.Local[p.Addr()] = true
			ifc.Addrs = append(ifc.Addrs, p)
			env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: k.Name})
		}
		env.Ifaces = append(env.Ifaces, ifc)
	}
	env.Ifaces = append(env.Ifaces, nf.Iface{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}})
	env.Routes = append(env.Routes,
		nf.Route{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Iface: "n1"},
		nf.Route{Prefix: netip.MustParsePrefix("::/0"), Iface: "n1"},
		nf.Route{Prefix: ProbeSources4, Unreachable: true},
		nf.Route{Prefix: ProbeSources6, Unreachable: true})
	return env
}
