package netfilter

import (
	"fmt"
	"net/netip"
	"strings"
)

// AddrType is a routing address type bit as xt_addrtype defines them
// (include/uapi/linux/netfilter/xt_addrtype.h: 1 << RTN_*).
type AddrType uint16

// Address types.
const (
	AddrTypeUnspec AddrType = 1 << iota
	AddrTypeUnicast
	AddrTypeLocal
	AddrTypeBroadcast
	AddrTypeAnycast
	AddrTypeMulticast
	AddrTypeBlackhole
	AddrTypeUnreachable
	AddrTypeProhibit
	AddrTypeThrow
	AddrTypeNAT
	AddrTypeXResolve
)

var addrTypeNames = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

// AddrTypeByName parses an xt_addrtype type name.
func AddrTypeByName(s string) (AddrType, bool) {
	for i, n := range addrTypeNames {
		if strings.EqualFold(s, n) {
			return AddrType(1 << i), true
		}
	}
	return 0, false
}

func (t AddrType) String() string {
	var out []string
	for i, n := range addrTypeNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// AddrTypeMatch is xt_addrtype (and nft `fib saddr/daddr type`): the
// routing type of the source and/or destination address. With LimitIn or
// LimitOut the type is taken relative to the packet's interface: an address
// of another interface is not LOCAL there (inet_dev_addr_type).
type AddrTypeMatch struct {
	Src, Dst       AddrType
	SrcNeg, DstNeg bool
	LimitIn        bool
	LimitOut       bool
}

// Eval implements Expr.
func (m *AddrTypeMatch) Eval(c *Ctx) Outcome {
	p := c.Pkt
	if p.Family == IPv6 {
		return m.eval6(c)
	}
	if m.Src != 0 && ((m.typeOf(c, p.Src)&m.Src != 0) == m.SrcNeg) {
		return outNoMatch
	}
	if m.Dst != 0 && ((m.typeOf(c, p.Dst)&m.Dst != 0) == m.DstNeg) {
		return outNoMatch
	}
	return outNext
}

func (m *AddrTypeMatch) typeOf(c *Ctx, a netip.Addr) AddrType {
	t := c.Env.AddrType(a)
	if t != AddrTypeLocal || !(m.LimitIn || m.LimitOut) {
		return t
	}
	dev := c.Pkt.InIface
	if m.LimitOut {
		dev = c.Pkt.OutIface
	}
	if c.Env.addrOn(dev, a) {
		return t
	}
	return AddrTypeUnicast
}

func (m *AddrTypeMatch) String() string {
	var parts []string
	if m.Src != 0 {
		parts = append(parts, neg(m.SrcNeg)+"--src-type "+m.Src.String())
	}
	if m.Dst != 0 {
		parts = append(parts, neg(m.DstNeg)+"--dst-type "+m.Dst.String())
	}
	if m.LimitIn {
		parts = append(parts, "--limit-iface-in")
	}
	if m.LimitOut {
		parts = append(parts, "--limit-iface-out")
	}
	return "addrtype " + strings.Join(parts, " ")
}

func neg(b bool) string {
	if b {
		return "! "
	}
	return ""
}

// StatisticMatch is xt_statistic: --mode random matches with probability
// Prob (kube-proxy's endpoint choice); --mode nth matches every Every-th
// packet, which depends on a counter the tool cannot see.
type StatisticMatch struct {
	Random bool
	Prob   float64
	Every  uint32
	Packet uint32
	Neg    bool
}

// Eval implements Expr: it always forks.
func (m *StatisticMatch) Eval(c *Ctx) Outcome {
	if m.Random {
		p := m.Prob
		if m.Neg {
			p = 1 - p
		}
		return Outcome{Kind: OutFork, Branches: []Branch{{Prob: p, Then: Const(true)}, {Prob: 1 - p, Then: Const(false)}}}
	}
	key := "nth"
	if v, ok := c.Env.Assumed(key); ok {
		return Outcome{Kind: boolOutcome(v).Kind, Assumption: fmt.Sprintf("statistic nth assumed to %s (--assume %s=%t)", matchWord(v), key, v)}
	}
	p := 1 / float64(max(m.Every, 1))
	if m.Neg {
		p = 1 - p
	}
	return Outcome{Kind: OutFork, Branches: []Branch{
		{Prob: p, Assumption: "statistic --mode nth matched (its packet counter is not visible)", Then: Const(true)},
		{Prob: 1 - p, Assumption: "statistic --mode nth did not match (its packet counter is not visible)", Then: Const(false)},
	}}
}

func (m *StatisticMatch) String() string {
	if m.Random {
		return fmt.Sprintf("statistic %s--mode random --probability %.10f", neg(m.Neg), m.Prob)
	}
	return fmt.Sprintf("statistic %s--mode nth --every %d --packet %d", neg(m.Neg), m.Every, m.Packet)
}

func matchWord(v bool) string {
	if v {
		return "match"
	}
	return "not match"
}

// StatefulMatch is a match whose result depends on state the tool cannot
// see: limit, hashlimit, connlimit, recent, quota, time, socket, string,
// u32, bpf, cgroup, and any module it does not know. Unless the user stated
// an assumption for Key, evaluation forks into "held" and "did not hold",
// each marked with that assumption.
type StatefulMatch struct {
	// Key names the assumption (see Env.Assume): the module name, e.g.
	// "limit", "recent", or "unknown:<module>".
	Key string
	// Text is the match as written.
	Text string
	// Known is false for modules the tool does not understand at all.
	Known bool
	// SideEffectOnly marks matches that always hold and only record state
	// (recent --set): they never fork.
	SideEffectOnly bool
}

// Eval implements Expr.
func (m *StatefulMatch) Eval(c *Ctx) Outcome {
	if m.SideEffectOnly {
		return outNext
	}
	if v, ok := c.Env.Assumed(m.Key); ok {
		o := boolOutcome(v)
		o.Assumption = fmt.Sprintf("%q assumed to %s (--assume %s=%t)", m.Text, matchWord(v), m.Key, v)
		return o
	}
	what := "depends on state not visible here"
	if !m.Known {
		what = "is not understood by exposure"
	}
	return Outcome{Kind: OutFork, Branches: []Branch{
		{Assumption: fmt.Sprintf("%q matched (it %s)", m.Text, what), Then: Const(true)},
		{Assumption: fmt.Sprintf("%q did not match (it %s)", m.Text, what), Then: Const(false)},
	}}
}

func (m *StatefulMatch) String() string { return m.Text }

// CommentMatch is xt_comment: it always holds and carries text that writers
// use to say who they are (kube-proxy "ns/svc:port", CNI "dnat name: ...").
type CommentMatch struct{ Text string }

// Eval implements Expr.
func (m *CommentMatch) Eval(*Ctx) Outcome { return outNext }

func (m *CommentMatch) String() string { return fmt.Sprintf("comment %q", m.Text) }

// PhysdevMatch is xt_physdev. Packets the simulator traces are routed, not
// bridged, so the match holds only when the rule asks for "not bridged".
type PhysdevMatch struct {
	Text string
	// IsBridged set: --physdev-is-bridged given, with BridgedNeg for "!".
	IsBridged  bool
	BridgedNeg bool
	// Other: any device option (--physdev-in/out, --physdev-is-in/out).
	Other bool
}

// Eval implements Expr.
func (m *PhysdevMatch) Eval(c *Ctx) Outcome {
	if c.Pkt.Bridged {
		return Outcome{Kind: OutFork, Branches: []Branch{
			{Assumption: fmt.Sprintf("%q matched (bridge ports not modelled)", m.Text), Then: Const(true)},
			{Assumption: fmt.Sprintf("%q did not match (bridge ports not modelled)", m.Text), Then: Const(false)},
		}}
	}
	// Not bridged: every device test fails (physdev_mt returns false when
	// skb has no bridge info), unless only "! --physdev-is-bridged" asked.
	return boolOutcome(!m.Other && m.IsBridged && m.BridgedNeg)
}

func (m *PhysdevMatch) String() string { return m.Text }

// eval6 is xt_addrtype's IPv6 logic (addrtype_mt6, match_type6), which
// differs from IPv4's: every category named must hold (UNICAST is any
// unicast address, local ones included), and LOCAL, ANYCAST and
// UNREACHABLE come from a route lookup, restricted to the packet's
// interface with --limit-iface-in/out.
func (m *AddrTypeMatch) eval6(c *Ctx) Outcome {
	dev := ""
	if m.LimitIn {
		dev = c.Pkt.InIface
	} else if m.LimitOut {
		dev = c.Pkt.OutIface
	}
	if m.Src != 0 && matchType6(c.Env, dev, c.Pkt.Src, m.Src) == m.SrcNeg {
		return outNoMatch
	}
	if m.Dst != 0 && matchType6(c.Env, dev, c.Pkt.Dst, m.Dst) == m.DstNeg {
		return outNoMatch
	}
	return outNext
}

func matchType6(e *Env, dev string, a netip.Addr, mask AddrType) bool {
	switch {
	case mask&AddrTypeMulticast != 0 && !a.IsMulticast():
		return false
	case mask&AddrTypeUnicast != 0 && (a.IsMulticast() || a.IsUnspecified()):
		return false
	case mask&AddrTypeUnspec != 0 && !a.IsUnspecified():
		return false
	}
	if mask&(AddrTypeLocal|AddrTypeAnycast|AddrTypeUnreachable) != 0 {
		return mask&e.routeType6(dev, a, mask) != 0
	}
	return true
}

// routeType6 is match_lookup_rt6: with a device, LOCAL means the address
// is on that device and the route lookup is bound to it (no route through
// it: UNREACHABLE); without one, the route's flags decide.
func (e *Env) routeType6(dev string, a netip.Addr, mask AddrType) AddrType {
	var t AddrType
	if dev != "" && mask&AddrTypeLocal != 0 && e.addrOn(dev, a) {
		t = AddrTypeLocal
	}
	if dev == "" && e.IsLocal(a) {
		return t | AddrTypeLocal
	}
	if e == nil || len(e.Routes) == 0 {
		return t
	}
	r, ok := e.lookupVia(a, dev)
	if !ok || r.Unreachable {
		return AddrTypeUnreachable
	}
	return t
}

// lookupVia is Lookup restricted to routes through dev ("" for any), with
// local addresses routed through the interface that holds them.
func (e *Env) lookupVia(a netip.Addr, dev string) (Route, bool) {
	if e.IsLocal(a) {
		for _, ifc := range e.Ifaces {
			for _, p := range ifc.Addrs {
				if p.Addr() == a && (dev == "" || dev == ifc.Name) {
					return Route{Prefix: netip.PrefixFrom(a, a.BitLen()), Iface: ifc.Name}, true
				}
			}
		}
	}
	best, found := Route{}, false
	for _, r := range e.Routes {
		if dev != "" && r.Iface != dev {
			continue
		}
		if r.Prefix.Contains(a) && (!found || r.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}
