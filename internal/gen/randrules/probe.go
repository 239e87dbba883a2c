package randrules

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/exposure-audit/exposure/internal/netns"
)

// entry says where and how a probe enters the node.
type entry struct {
	fromNode bool
	local    bool   // destination is a node address
	via      string // c0, c2 or s0 when !fromNode
	outLink  string // n0 or n2: forward to that link's peer instead of the server side
}

// probes generates cfg.Probes probes, most aimed at a random rule.
func (g *gen) probes() []Probe {
	var all []*Rule
	for _, c := range g.chains {
		all = append(all, c.rules...)
	}
	out := make([]Probe, 0, g.cfg.Probes)
	seen := map[string]bool{}
	for range g.cfg.Probes {
		var p Probe
		for try := 0; try == 0 || (seen[flowKey(p.Probe)] && try < 10); try++ {
			p = g.oneProbe(all)
		}
		seen[flowKey(p.Probe)] = true
		out = append(out, p)
	}
	return out
}

// oneProbe returns an aimed probe (AimedShare of the time) or a random one.
func (g *gen) oneProbe(all []*Rule) Probe {
	if len(all) > 0 && g.r.Float64() < g.cfg.AimedShare {
		pr, aim, path := g.aim(all)
		return Probe{Probe: pr, Aim: aim, Path: path}
	}
	return Probe{Probe: g.realize(noCond(), g.randomEntry(hPre|hIn|hFwd|hOut|hPost, 0)), Aim: "random"}
}

// flowKey identifies a probe's conntrack flow; probes of one ruleset get distinct
// flows so that none finds an entry an earlier one left (which would, e.g., keep
// it out of the nat chains).
func flowKey(p netns.Probe) string {
	return fmt.Sprint(p.Src, p.Dst, p.Proto, p.SPort, p.DPort)
}

// aim builds a probe meant to reach and match rl: it walks up a random chain of
// callers to a built-in chain, merges the conditions of every rule on that path,
// and picks an entry point that reaches the built-in chain's hook. Paths whose
// conditions surely conflict, or that need what a probe cannot be (a source
// outside the probe range, a device that does not exist), are retried with
// another rule, up to a few times.
func (g *gen) aim(all []*Rule) (netns.Probe, string, []string) {
	var (
		merged cond
		path   []string
		root   *chain
		rl     *Rule
	)
	for range 8 {
		rl = g.pickAim(all)
		var ok bool
		merged, path, root, ok = g.walk(rl)
		if ok && g.feasible(merged) {
			break
		}
	}
	if root.table == "nat" && merged.states == nil {
		merged.states = []string{"NEW"} // nat chains see only a flow's first packet, and no INVALID one
	}
	e := g.steerEntry(g.randomEntry(root.hooks, g.wantLocal(merged)), merged)
	pr := g.realize(merged, e)
	if !e.fromNode && !e.local && root.hooks&(hFwd|hPost) != 0 && merged.ttlOp != "" && pr.TTL < 255 {
		pr.TTL++ // forwarding decrements the TTL before FORWARD and POSTROUTING see it
	}
	return pr, rl.key(), path
}

// pickAim picks a rule: half the time uniformly, else rules in deeper chains
// more often (weight 1+2·depth), so that deep paths get exercised.
func (g *gen) pickAim(all []*Rule) *Rule {
	if g.r.IntN(2) == 0 {
		return all[g.r.IntN(len(all))]
	}
	total := 0
	for _, rl := range all {
		total += 1 + 2*g.chain(rl.Table, rl.Chain).depth
	}
	n := g.r.IntN(total)
	for _, rl := range all {
		if n -= 1 + 2*g.chain(rl.Table, rl.Chain).depth; n < 0 {
			return rl
		}
	}
	return all[len(all)-1]
}

// walk picks a random path from a built-in chain down to rl and merges its conditions.
func (g *gen) walk(rl *Rule) (cond, []string, *chain, bool) {
	conds := []cond{rl.cond}
	path := []string{rl.key()}
	c := g.chain(rl.Table, rl.Chain)
	for !c.builtin && len(c.callers) > 0 {
		caller := c.callers[g.r.IntN(len(c.callers))]
		conds = append(conds, caller.cond)
		path = append(path, caller.key())
		c = g.chain(caller.Table, caller.Chain)
	}
	slices.Reverse(path)
	merged, ok := noCond(), true
	for _, x := range slices.Backward(conds) {
		var fits bool
		merged, fits = merged.merge(x)
		ok = ok && fits
	}
	return merged, path, c, ok
}

// missing are -i/-o names no device of the node has.
var missing = []string{"c+", "n9", "eth+"}

// feasible reports whether a probe can meet c at all.
func (g *gen) feasible(c cond) bool {
	src := g.pl.probeSrc
	switch {
	case c.src.IsValid() && !c.srcNeg && !c.src.Overlaps(src):
		return false
	case c.src.IsValid() && c.srcNeg && c.src.Bits() <= src.Bits() && c.src.Contains(src.Addr()):
		return false
	case !c.inNeg && slices.Contains(missing, c.in), !c.outNeg && slices.Contains(missing, c.out):
		return false
	}
	return true
}

// wantLocal says whether the destination conditions call for a node address
// (+1), a routed one (-1), or do not care (0).
func (g *gen) wantLocal(c cond) int {
	switch {
	case c.dstType == "LOCAL":
		return map[bool]int{false: 1, true: -1}[c.dstTNeg]
	case c.dst.IsValid() && !c.dstNeg && c.dst.Bits() > 0:
		if slices.ContainsFunc(g.pl.local, c.dst.Contains) {
			return 1
		}
		return -1
	}
	return 0
}

// randomEntry picks an entry point that traverses one of the hooks in h,
// preferring a local or routed destination as local says (see wantLocal).
func (g *gen) randomEntry(h hooks, local int) entry {
	var opts []entry
	via := []string{"c0", "c0", "c0", "c2", "s0"}[g.r.IntN(5)]
	if h&(hPre|hIn) != 0 {
		opts = append(opts, entry{via: via, local: true})
	}
	if h&(hPre|hFwd|hPost) != 0 {
		opts = append(opts, entry{via: via})
	}
	if h&(hOut|hPost|hIn|hPre) != 0 {
		opts = append(opts, entry{fromNode: true, local: true})
	}
	if h&(hOut|hPost) != 0 {
		opts = append(opts, entry{fromNode: true})
	}
	if len(opts) == 0 {
		opts = append(opts, entry{via: via, local: true})
	}
	var pref []entry
	for _, e := range opts {
		if local == 0 || e.local == (local > 0) {
			pref = append(pref, e)
		}
	}
	if len(pref) > 0 {
		opts = pref
	}
	return opts[g.r.IntN(len(opts))]
}

// viaFor maps a node input device to the peer end a frame must leave from.
var viaFor = map[string]string{"n0": "c0", "n1": "s0", "n2": "c2"}

// steerEntry adjusts e to positive -i/-o conditions.
func (g *gen) steerEntry(e entry, c cond) entry {
	if c.in != "" && !c.inNeg {
		switch c.in {
		case "lo":
			e = entry{fromNode: true, local: true}
		case "n0", "n1", "n2":
			e.fromNode, e.via = false, viaFor[c.in]
		case "n+":
			if e.fromNode {
				e = entry{via: "c0", local: e.local}
			}
		}
	}
	if c.in != "" && c.inNeg && !e.fromNode && viaFor[c.in] == e.via {
		e.via = map[string]string{"c0": "c2", "c2": "s0", "s0": "c0"}[e.via]
	}
	if c.in == "lo" && c.inNeg && e.fromNode && e.local {
		e = entry{via: "c0", local: true}
	}
	if c.out != "" && !c.outNeg {
		switch c.out {
		case "lo":
			e = entry{fromNode: true, local: true}
		case "n0", "n2":
			e.local, e.outLink = false, c.out
		case "n1", "n+":
			e.local = false
		}
	}
	return e
}

// realize turns merged conditions and an entry into a concrete probe.
func (g *gen) realize(c cond, e entry) netns.Probe {
	pr := netns.Probe{Family: g.cfg.Family, FromNode: e.fromNode, Via: e.via}
	if e.fromNode {
		pr.Via = ""
	}
	pr.Proto = g.pickProto(c)
	pr.Src = g.pickSrc(c)
	pr.Dst, pr.EthDst = g.pickDst(c, e)
	pr.SPort = g.pickPort(c.sport, c.sportNeg, false)
	pr.DPort = g.pickPort(c.dport, c.dportNeg, true)
	if pr.Proto == netns.ProtoTCP {
		pr.TCPFlags = g.pickFlags(c)
	}
	if pr.Proto == netns.ProtoICMP || pr.Proto == netns.ProtoICMPv6 {
		pr.ICMPType, pr.ICMPCode = g.pickICMP(c)
	}
	pr.TTL = g.pickTTL(c, e)
	pr.Length = g.pickLength(c, pr.Proto)
	return pr
}

// pickProto honours -p (and its negation), else picks tcp, udp or icmp mostly.
func (g *gen) pickProto(c cond) uint8 {
	icmp := netns.ProtoICMP
	if g.cfg.Family == 6 {
		icmp = netns.ProtoICMPv6
	}
	if c.proto >= 0 && !c.protoNeg {
		return uint8(c.proto)
	}
	cands := []uint8{netns.ProtoTCP, netns.ProtoTCP, netns.ProtoTCP, netns.ProtoUDP, netns.ProtoUDP, icmp, netns.ProtoSCTP, 47}
	for {
		p := cands[g.r.IntN(len(cands))]
		if c.proto < 0 || int(p) != c.proto {
			return p
		}
	}
}

// pickSrc returns a source in the probe-source range honouring -s and --src-range
// where they overlap it.
func (g *gen) pickSrc(c cond) netip.Addr {
	base := g.pl.probeSrc
	if c.src.IsValid() && !c.srcNeg && c.src.Overlaps(base) && c.src.Bits() > base.Bits() {
		base = c.src
	}
	if c.srcRange[0].IsValid() && !c.srcRNeg && base.Contains(c.srcRange[0]) {
		return c.srcRange[g.r.IntN(2)]
	}
	var a netip.Addr
	for range 20 {
		a = randIn(g.r, base)
		if (!c.srcNeg || !c.src.Contains(a)) && (!c.srcRNeg || !inRange(a, c.srcRange)) {
			break
		}
	}
	return a
}

// inRange reports whether a lies in the inclusive range r.
func inRange(a netip.Addr, r [2]netip.Addr) bool {
	return r[0].IsValid() && !a.Less(r[0]) && !r[1].Less(a)
}

// pickDst returns a destination for the entry honouring -d, --dst-range,
// addrtype --dst-type and pkttype, and the frame's MAC for broadcast/multicast.
func (g *gen) pickDst(c cond, e entry) (netip.Addr, net.HardwareAddr) {
	if !e.fromNode {
		if d, mac, ok := g.specialDst(c, e); ok {
			return d, mac
		}
	}
	cands := g.dstCandidates(c, e)
	var ok []netip.Addr
	for _, d := range cands {
		if g.dstFits(c, d) {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		ok = cands
	}
	return ok[g.r.IntN(len(ok))], nil
}

// specialDst handles broadcast and multicast wishes (pkttype, addrtype).
func (g *gen) specialDst(c cond, e entry) (netip.Addr, net.HardwareAddr, bool) {
	want := ""
	switch {
	case c.pktType != "" && !c.pktNeg:
		want = c.pktType
	case c.dstType != "" && !c.dstTNeg:
		want = map[string]string{"BROADCAST": "broadcast", "MULTICAST": "multicast"}[c.dstType]
	}
	link, _ := netns.LinkByName(e.via)
	switch {
	case want == "broadcast" && g.cfg.Family == 4:
		return g.pl.bcast[link.Name], net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true
	case want == "multicast" && g.cfg.Family == 4:
		return g.pl.mcast, net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 1}, true
	case want == "multicast":
		return g.pl.mcast, net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}, true
	}
	return netip.Addr{}, nil, false
}

// dstCandidates lists destinations that give the entry its path.
func (g *gen) dstCandidates(c cond, e entry) []netip.Addr {
	pl := g.pl
	switch {
	case e.local && e.fromNode:
		out := slices.Clone(pl.local)
		if g.cfg.Family == 4 {
			out = append(out, a("127.0.0.1"), a("127.1.2.3"))
		}
		return out
	case e.local:
		return slices.Clone(pl.local[:len(pl.local)-1])
	case e.outLink != "":
		return []netip.Addr{pl.peers[e.outLink]}
	}
	out := slices.Clone(pl.remote)
	for _, n := range pl.remoteNets {
		out = append(out, randIn(g.r, n), randIn(g.r, n))
	}
	for _, pf := range []netip.Prefix{c.dst} {
		if pf.IsValid() && !c.dstNeg && g.routedRemote(pf) {
			out = append(out, randIn(g.r, pf), randIn(g.r, pf))
		}
	}
	if inRange(c.dstRange[0], c.dstRange) && !c.dstRNeg && g.routedRemoteAddr(c.dstRange[0]) {
		out = append(out, c.dstRange[0], c.dstRange[1])
	}
	return out
}

// routedRemote reports whether every address of pf goes to the server side
// through the default route (no on-link neighbour needed, not local).
func (g *gen) routedRemote(pf netip.Prefix) bool {
	for _, n := range g.pl.remoteNets {
		if n.Bits() <= pf.Bits() && n.Contains(pf.Addr()) {
			return true
		}
	}
	return false
}

func (g *gen) routedRemoteAddr(x netip.Addr) bool {
	return g.routedRemote(netip.PrefixFrom(x, x.BitLen()))
}

// dstFits reports whether d satisfies the destination conditions.
func (g *gen) dstFits(c cond, d netip.Addr) bool {
	if c.dst.IsValid() && c.dst.Contains(d) == c.dstNeg {
		return false
	}
	if c.dstRange[0].IsValid() && inRange(d, c.dstRange) == c.dstRNeg {
		return false
	}
	if c.dstType == "LOCAL" && g.pl.isLocal(d) == c.dstTNeg {
		return false
	}
	return true
}

// pickPort returns a port in one of rs (or outside all when neg), else a typical one.
func (g *gen) pickPort(rs []portRange, neg bool, dst bool) uint16 {
	if len(rs) > 0 && !neg {
		pr := rs[g.r.IntN(len(rs))]
		return pr.lo + uint16(g.r.IntN(int(pr.hi-pr.lo)+1))
	}
	for range 20 {
		p := uint16(1024 + g.r.IntN(64512))
		if dst && g.r.IntN(2) == 0 {
			p = wellKnownPorts[g.r.IntN(len(wellKnownPorts))]
		}
		if !slices.ContainsFunc(rs, func(pr portRange) bool { return p >= pr.lo && p <= pr.hi }) {
			return p
		}
	}
	return 1
}

// commonFlags are first-packet flag sets, SYN most often.
var commonFlags = []byte{netns.SYN, netns.SYN, netns.SYN, netns.ACK, netns.SYN | netns.ACK, netns.FIN | netns.ACK,
	netns.RST, netns.PSH | netns.ACK, netns.FIN, 0}

// pickFlags honours --tcp-flags/--syn, else steers by the wanted ctstate.
func (g *gen) pickFlags(c cond) byte {
	if c.flagSet {
		for range 30 {
			f := byte(g.r.IntN(0x40))
			if !c.flagNeg {
				return c.flagComp | f&^c.flagMask
			}
			if f&c.flagMask != c.flagComp {
				return f
			}
		}
	}
	if len(c.states) > 0 && !c.stateNeg {
		switch c.states[0] {
		case "NEW":
			return []byte{netns.SYN, netns.ACK}[g.r.IntN(2)]
		case "INVALID":
			return []byte{netns.SYN | netns.ACK, netns.RST, netns.FIN}[g.r.IntN(3)]
		}
	}
	return commonFlags[g.r.IntN(len(commonFlags))]
}

// pickICMP honours --icmp-type, else sends mostly echo requests.
func (g *gen) pickICMP(c cond) (uint8, uint8) {
	types := icmpTypes4
	if g.cfg.Family == 6 {
		types = icmpTypes6
	}
	if c.icmpType >= 0 && !c.icmpNeg {
		return uint8(c.icmpType), uint8(max(c.icmpCode, 0))
	}
	if len(c.states) > 0 && !c.stateNeg && c.states[0] == "NEW" && c.icmpType < 0 {
		return types[0].mustType(), 0 // echo request
	}
	for range 20 {
		t := types[g.r.IntN(len(types))]
		if t.typ >= 0 && (c.icmpType < 0 || t.typ != c.icmpType) {
			return uint8(t.typ), uint8(max(t.code, 0))
		}
	}
	return types[0].mustType(), 0
}

func (t icmpType) mustType() uint8 { return uint8(max(t.typ, 0)) }

// pickTTL honours ttl/hl matches; 64 otherwise, sometimes 1 (dies before FORWARD).
func (g *gen) pickTTL(c cond, e entry) uint8 {
	v := c.ttlVal
	switch {
	case c.ttlOp == "eq" && !c.ttlNeg:
		return uint8(max(v, 1))
	case c.ttlOp == "eq":
		return uint8(1 + (v+1+g.r.IntN(10))%255)
	case c.ttlOp == "gt" && v < 255:
		return uint8(v + 1 + g.r.IntN(255-v))
	case c.ttlOp == "lt" && v > 1:
		return uint8(1 + g.r.IntN(v-1))
	}
	if g.r.IntN(20) == 0 {
		return []uint8{1, 2, 255}[g.r.IntN(3)]
	}
	return 64
}

// pickLength honours -m length within what the headers need and the 1500 MTU.
func (g *gen) pickLength(c cond, proto uint8) int {
	minLen := 20
	if g.cfg.Family == 6 {
		minLen = 40
	}
	minLen += map[uint8]int{netns.ProtoTCP: 20, netns.ProtoUDP: 8, netns.ProtoICMP: 8, netns.ProtoICMPv6: 8, netns.ProtoSCTP: 32}[proto]
	if c.length[1] > 0 {
		for range 20 {
			n := c.length[0] + g.r.IntN(c.length[1]-c.length[0]+1)
			if c.lenNeg {
				n = minLen + g.r.IntN(1500-minLen+1)
			}
			inside := n >= c.length[0] && n <= c.length[1]
			if n >= minLen && n <= 1500 && inside != c.lenNeg {
				return n
			}
		}
	}
	if g.r.IntN(4) == 0 {
		return minLen + g.r.IntN(1500-minLen+1)
	}
	return 0
}
