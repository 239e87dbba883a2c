package netns

import (
	"net/netip"
	"os"
	"strconv"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
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

// Input is what the simulator is given for a probe: the same packet, on
// the node interface it arrives on (n0, n2, n1 for c0, c2, s0), or sent by
// the node itself (no socket owner known).
func (p Probe) Input() trace.Input {
	in := trace.Input{Local: p.FromNode}
	pk := &in.Packet
	pk.Src, pk.Dst, pk.Proto = p.Src, p.Dst, p.Proto
	pk.SPort, pk.DPort, pk.TCPFlags = p.SPort, p.DPort, p.TCPFlags
	pk.ICMPType, pk.ICMPCode = p.ICMPType, p.ICMPCode
	pk.TTL, pk.TOS = p.TTL, p.TOS
	if b, err := p.Bytes(); err == nil {
		pk.Length = uint16(len(b))
	}
	if pk.TTL == 0 {
		pk.TTL = 64
	}
	if p.FromNode {
		pk.UID, pk.GID = -1, -1
	} else {
		pk.InIface = map[string]string{"c0": "n0", "c2": "n2", "s0": "n1"}[p.Via]
	}
	return in
}

// Seeds is how many random rulesets a differential suite runs: def, or
// the EXPOSURE_KERNEL_SEEDS environment variable.
func Seeds(def int) int {
	if n, err := strconv.Atoi(os.Getenv("EXPOSURE_KERNEL_SEEDS")); err == nil && n > 0 {
		return n
	}
	return def
}
