package randrules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// rb builds one rule: the leading options come from cond, modules are text parts.
type rb struct {
	g     *gen
	c     *chain
	fam   int
	pl    *pools
	cond  cond
	mods  []string
	proto string // -p value as written
}

// chance returns true with probability pct/100 when feature f is on.
func (b *rb) chance(f Feature, pct int) bool {
	return b.g.cfg.Features.Has(f) && b.g.r.IntN(100) < pct
}

// neg returns "! " with probability pct/100.
func (b *rb) neg(pct int) (string, bool) {
	if b.g.r.IntN(100) < pct {
		return "! ", true
	}
	return "", false
}

// mod appends a module text part.
func (b *rb) mod(format string, args ...any) {
	b.mods = append(b.mods, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// fillRule writes rl's matches and target for chain c.
func (g *gen) fillRule(c *chain, rl *Rule) {
	b := &rb{g: g, c: c, fam: g.cfg.Family, pl: g.pl, cond: noCond()}
	b.protoMatch()
	b.addrMatches()
	b.ifaceMatches()
	b.protoModules()
	b.stateModules()
	b.miscModules()
	target := b.target(rl)
	if f := strings.Fields(target); len(f) > 1 {
		rl.target = f[1]
	}
	rl.Text = strings.Join(append(append([]string{"-A", c.name}, b.leading()...), append(b.mods, target)...), " ")
	rl.Text = strings.TrimSpace(rl.Text)
	rl.cond = b.cond
}

// leading renders -s, -d, -i, -o and -p from cond, in iptables-save order.
func (b *rb) leading() []string {
	var out []string
	bang := func(n bool) string {
		if n {
			return "! "
		}
		return ""
	}
	if b.cond.src.IsValid() {
		out = append(out, bang(b.cond.srcNeg)+"-s "+b.cond.src.String())
	}
	if b.cond.dst.IsValid() {
		out = append(out, bang(b.cond.dstNeg)+"-d "+b.cond.dst.String())
	}
	if b.cond.in != "" {
		out = append(out, bang(b.cond.inNeg)+"-i "+b.cond.in)
	}
	if b.cond.out != "" {
		out = append(out, bang(b.cond.outNeg)+"-o "+b.cond.out)
	}
	if b.proto != "" {
		out = append(out, bang(b.cond.protoNeg)+"-p "+b.proto)
	}
	return out
}

// protoChoice is a -p value, its number (-1 for all) and its weight.
type protoChoice struct {
	name   string
	num, w int
}

// protoMatch picks -p.
func (b *rb) protoMatch() {
	if !b.chance(FeatProto, 55) {
		return
	}
	icmp := protoChoice{"icmp", 1, 15}
	if b.fam == 6 {
		icmp = protoChoice{[]string{"ipv6-icmp", "icmpv6"}[b.g.r.IntN(2)], 58, 15}
	}
	choices := []protoChoice{{"tcp", 6, 40}, {"udp", 17, 30}, icmp, {"sctp", 132, 5}, {"47", 47, 5}, {"all", -1, 5}}
	n := b.g.r.IntN(100)
	for _, c := range choices {
		if n -= c.w; n < 0 {
			b.proto, b.cond.proto = c.name, c.num
			break
		}
	}
	if b.cond.proto >= 0 {
		_, b.cond.protoNeg = b.neg(10)
	}
}

// protoIs reports whether the rule matches exactly protocol n (not negated).
func (b *rb) protoIs(n int) bool { return b.cond.proto == n && !b.cond.protoNeg }

// addrMatches picks -s and -d.
func (b *rb) addrMatches() {
	r := b.g.r
	if b.chance(FeatAddr, 35) {
		maxBits := 32
		if b.fam == 6 {
			maxBits = 64 + 64*r.IntN(2)
		}
		b.cond.src = subnet(r, b.pl.probeSrc, maxBits)
		if r.IntN(10) < 2 {
			b.cond.src = b.pl.srcNets[r.IntN(len(b.pl.srcNets))]
		}
		_, b.cond.srcNeg = b.neg(20)
		b.cond.srcNeg = b.cond.srcNeg && b.cond.src.Bits() > 0 // nft cannot express "! -s 0/0"
	}
	if b.chance(FeatAddr, 35) {
		switch r.IntN(4) {
		case 0, 1:
			b.cond.dst = b.pl.dstNets[r.IntN(len(b.pl.dstNets))]
		case 2:
			l := b.pl.local[r.IntN(len(b.pl.local))]
			b.cond.dst = netip.PrefixFrom(l, l.BitLen())
		default:
			rn := b.pl.remoteNets[r.IntN(len(b.pl.remoteNets))]
			b.cond.dst = subnet(r, rn, rn.Bits()+16)
		}
		_, b.cond.dstNeg = b.neg(20)
		b.cond.dstNeg = b.cond.dstNeg && b.cond.dst.Bits() > 0
	}
}

// ifaceNames are -i/-o values: the node's devices, wildcards, and names that exist nowhere.
var ifaceNames = []string{"n0", "n1", "n2", "lo", "n+", "n0", "n1", "n2", "c+", "n9", "eth+"}

// ifaceMatches picks -i (only where an input device exists: PREROUTING, INPUT,
// FORWARD) and -o (FORWARD, OUTPUT, POSTROUTING). Elsewhere iptables-nft and
// legacy differ for "!" (no device: nft's meta breaks, legacy compares "").
func (b *rb) ifaceMatches() {
	r := b.g.r
	if b.c.hooks.within(hPre|hIn|hFwd) && b.chance(FeatIface, 20) {
		b.cond.in = ifaceNames[r.IntN(len(ifaceNames))]
		_, b.cond.inNeg = b.neg(25)
	}
	if b.c.hooks.within(hFwd|hOut|hPost) && b.chance(FeatIface, 20) {
		b.cond.out = ifaceNames[r.IntN(len(ifaceNames))]
		_, b.cond.outNeg = b.neg(25)
	}
}

// wellKnownPorts are common destination ports.
var wellKnownPorts = []uint16{22, 53, 80, 443, 8080, 6443, 10250, 30080, 32000}

// randPortRange returns a single port or a range.
func (b *rb) randPortRange() portRange {
	r := b.g.r
	lo := wellKnownPorts[r.IntN(len(wellKnownPorts))]
	if r.IntN(3) == 0 {
		lo = uint16(1 + r.IntN(65535))
	}
	if r.IntN(3) == 0 {
		return portRange{lo, lo + uint16(r.IntN(int(65535-lo)+1))}
	}
	return portRange{lo, lo}
}

// String renders the range as iptables writes it: "p" or "lo:hi".
func (p portRange) String() string {
	if p.lo == p.hi {
		return fmt.Sprint(p.lo)
	}
	return fmt.Sprintf("%d:%d", p.lo, p.hi)
}

// protoModules adds tcp/udp/icmp/multiport matches for a positive -p.
func (b *rb) protoModules() {
	switch {
	case b.protoIs(6), b.protoIs(17):
		b.portModules()
	case b.protoIs(1) && b.fam == 4:
		b.icmpModule("icmp", "--icmp-type", icmpTypes4)
	case b.protoIs(58) && b.fam == 6:
		b.icmpModule("icmp6", "--icmpv6-type", icmpTypes6)
	}
}

// portModules adds -m tcp/udp ports and flags, or -m multiport.
func (b *rb) portModules() {
	r := b.g.r
	name := map[int]string{6: "tcp", 17: "udp"}[b.cond.proto]
	if b.chance(FeatMultiport, 20) {
		b.multiport()
		return
	}
	var parts []string
	if b.chance(FeatPorts, 25) {
		pr := b.randPortRange()
		n, neg := b.neg(20)
		parts = append(parts, n+"--sport "+pr.String())
		b.cond.sport, b.cond.sportNeg = []portRange{pr}, neg
	}
	if b.chance(FeatPorts, 55) {
		pr := b.randPortRange()
		n, neg := b.neg(20)
		parts = append(parts, n+"--dport "+pr.String())
		b.cond.dport, b.cond.dportNeg = []portRange{pr}, neg
	}
	if name == "tcp" && b.chance(FeatTCPFlags, 30) {
		parts = append(parts, b.tcpFlags())
	}
	if len(parts) > 0 || r.IntN(10) == 0 {
		b.mod("-m %s %s", name, strings.Join(parts, " "))
	}
}

// flagNames are the --tcp-flags names and bits.
var flagNames = []struct {
	name string
	bit  byte
}{{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}}

// tcpFlags returns --syn or --tcp-flags MASK COMP (maybe negated) and records it.
func (b *rb) tcpFlags() string {
	r := b.g.r
	n, neg := b.neg(20)
	if r.IntN(3) == 0 {
		b.cond.flagSet, b.cond.flagMask, b.cond.flagComp, b.cond.flagNeg = true, 0x17, 0x02, neg
		return n + "--syn"
	}
	mask := byte(1 + r.IntN(0x3f))
	comp := mask & byte(r.IntN(0x40))
	b.cond.flagSet, b.cond.flagMask, b.cond.flagComp, b.cond.flagNeg = true, mask, comp, neg
	return fmt.Sprintf("%s--tcp-flags %s %s", n, flagList(mask), flagList(comp))
}

// flagList renders flag bits as "SYN,ACK", or "NONE".
func flagList(v byte) string {
	var out []string
	for _, f := range flagNames {
		if v&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return "NONE"
	}
	return strings.Join(out, ",")
}

// multiport adds -m multiport with up to 15 ports (a range counts two).
func (b *rb) multiport() {
	r := b.g.r
	var prs []portRange
	var txt []string
	for slots := 1 + r.IntN(14); slots > 0; {
		pr := b.randPortRange()
		if pr.lo != pr.hi {
			if slots < 2 {
				pr.hi = pr.lo
			} else {
				slots--
			}
		}
		slots--
		prs = append(prs, pr)
		txt = append(txt, pr.String())
	}
	opt := []string{"--dports", "--sports", "--ports"}[r.IntN(3)]
	n, neg := b.neg(15)
	b.mod("-m multiport %s%s %s", n, opt, strings.Join(txt, ","))
	switch opt {
	case "--dports":
		b.cond.dport, b.cond.dportNeg = prs, neg
	case "--sports":
		b.cond.sport, b.cond.sportNeg = prs, neg
	default: // --ports: either side; steer the destination
		b.cond.dport, b.cond.dportNeg = prs, neg
		if neg {
			b.cond.sport, b.cond.sportNeg = prs, neg
		}
	}
}

// icmpType is an --icmp-type value as written and the type/code it means.
type icmpType struct {
	text      string
	typ, code int
}

var icmpTypes4 = []icmpType{
	{"8", 8, -1}, {"echo-request", 8, -1}, {"0", 0, -1}, {"echo-reply", 0, -1}, {"3", 3, -1},
	{"3/3", 3, 3}, {"port-unreachable", 3, 3}, {"11", 11, -1}, {"13", 13, -1}, {"any", -1, -1},
}

var icmpTypes6 = []icmpType{
	{"128", 128, -1}, {"echo-request", 128, -1}, {"129", 129, -1}, {"1", 1, -1}, {"1/4", 1, 4},
	{"port-unreachable", 1, 4}, {"135", 135, -1}, {"neighbour-solicitation", 135, -1}, {"3", 3, -1},
}

// icmpModule adds -m icmp/icmp6 with a type.
func (b *rb) icmpModule(mod, opt string, types []icmpType) {
	if !b.chance(FeatICMP, 60) {
		return
	}
	t := types[b.g.r.IntN(len(types))]
	n, neg := b.neg(15)
	b.mod("-m %s %s%s %s", mod, n, opt, t.text)
	if t.typ >= 0 {
		b.cond.icmpType, b.cond.icmpCode, b.cond.icmpNeg = t.typ, t.code, neg
	}
}

// ctStates are the conntrack states a rule may name, weighted towards those a
// first packet can have.
var ctStates = []string{"NEW", "NEW", "NEW", "INVALID", "INVALID", "ESTABLISHED", "RELATED", "UNTRACKED"}

// stateModules adds -m conntrack --ctstate or -m state --state.
func (b *rb) stateModules() {
	if !b.chance(FeatConntrack, 20) {
		return
	}
	r := b.g.r
	var states []string
	for n := 1 + r.IntN(3); len(states) < n; {
		if s := ctStates[r.IntN(len(ctStates))]; !slices.Contains(states, s) {
			states = append(states, s)
		}
	}
	n, neg := b.neg(15)
	if r.IntN(3) == 0 {
		b.mod("-m state %s--state %s", n, strings.Join(states, ","))
	} else {
		b.mod("-m conntrack %s--ctstate %s", n, strings.Join(states, ","))
	}
	b.cond.states, b.cond.stateNeg = states, neg
}
