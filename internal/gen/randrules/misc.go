package randrules

import (
	"fmt"
	"net/netip"
	"strings"
)

// miscModules adds the protocol-independent modules.
func (b *rb) miscModules() {
	if b.chance(FeatAddrtype, 10) {
		b.addrtype()
	}
	if b.chance(FeatMark, 10) {
		n, _ := b.neg(20)
		b.mod("-m mark %s--mark %s", n, b.markValue())
	}
	if b.chance(FeatMark, 5) {
		n, _ := b.neg(20)
		b.mod("-m connmark %s--mark %s", n, b.markValue())
	}
	if b.chance(FeatIPRange, 8) {
		b.iprange()
	}
	if b.chance(FeatLength, 8) {
		b.length()
	}
	if b.chance(FeatTTL, 8) {
		b.ttl()
	}
	if b.chance(FeatPktType, 5) {
		t := []string{"unicast", "broadcast", "multicast"}[b.g.r.IntN(3)]
		n, neg := b.neg(25)
		b.mod("-m pkttype %s--pkt-type %s", n, t)
		b.cond.pktType, b.cond.pktNeg = t, neg
	}
	if b.chance(FeatNth, 3) {
		every := 2 + b.g.r.IntN(4)
		b.mod("-m statistic --mode nth --every %d --packet %d", every, b.g.r.IntN(every))
	}
	if b.chance(FeatComment, 15) {
		b.mod("-m comment --comment %s", comments[b.g.r.IntN(len(comments))])
	}
}

// comments are --comment arguments as written in a restore file: quoted, with
// escaped quotes, the shapes Docker, kube-proxy and CNI write.
var comments = []string{
	`"simple"`, `plain-word`, `"with spaces"`, `"say \"hi\""`, `"it's fine"`,
	`"default/kubernetes:https cluster IP"`, `"dnat name: \"containerd-net\" id: \"0123abcd\""`,
	`"!fw3: Allow-DHCP-Renew"`, `"a -j DROP lookalike"`, `"semi;colon and #hash"`,
}

// addrTypes4 and addrTypes6 are the types addrtype accepts per family (IPv6 has
// no BROADCAST, BLACKHOLE, PROHIBIT, THROW, NAT or XRESOLVE).
var (
	addrTypes4 = []string{"UNICAST", "LOCAL", "BROADCAST", "MULTICAST", "UNREACHABLE", "BLACKHOLE", "PROHIBIT", "ANYCAST", "UNSPEC"}
	addrTypes6 = []string{"UNICAST", "LOCAL", "MULTICAST", "UNREACHABLE", "ANYCAST", "UNSPEC"}
)

// addrtype adds -m addrtype with a source and/or destination type and maybe a
// limit to the input or output device (only where that device exists).
func (b *rb) addrtype() {
	r := b.g.r
	types := addrTypes4
	if b.fam == 6 {
		types = addrTypes6
	}
	var parts []string
	if r.IntN(2) == 0 {
		n, _ := b.neg(20)
		parts = append(parts, n+"--src-type "+b.srcType(types))
	}
	if len(parts) == 0 || r.IntN(2) == 0 {
		n, neg := b.neg(20)
		t := types[r.IntN(len(types))]
		parts = append(parts, n+"--dst-type "+t)
		b.cond.dstType, b.cond.dstTNeg = t, neg
	}
	switch {
	case r.IntN(3) != 0:
	case b.c.hooks.within(hPre | hIn | hFwd):
		parts = append(parts, "--limit-iface-in")
	case b.c.hooks.within(hFwd | hOut | hPost):
		parts = append(parts, "--limit-iface-out")
	}
	b.mod("-m addrtype %s", strings.Join(parts, " "))
}

// srcType picks a --src-type, mostly one that probe sources have (UNICAST on
// IPv4; UNICAST and UNREACHABLE on IPv6, whose addrtype reads the main table).
func (b *rb) srcType(types []string) string {
	if b.g.r.IntN(2) == 0 {
		return types[b.g.r.IntN(len(types))]
	}
	if b.fam == 6 && b.g.r.IntN(2) == 0 {
		return "UNREACHABLE"
	}
	return "UNICAST"
}

// markValue returns "V" or "V/M" in hex.
func (b *rb) markValue() string {
	r := b.g.r
	v := uint32(r.IntN(16))
	if r.IntN(5) < 2 {
		v = 0 // probes start with mark 0; keep some mark matches reachable
	}
	if r.IntN(2) == 0 {
		return fmt.Sprintf("0x%x", v)
	}
	return fmt.Sprintf("0x%x/0x%x", v, []uint32{0xf, 0xff, 0x4000, 0xffffffff}[r.IntN(4)])
}

// iprange adds --src-range (inside the probe sources) or --dst-range.
func (b *rb) iprange() {
	r := b.g.r
	n, neg := b.neg(20)
	if r.IntN(2) == 0 {
		lo, hi := b.addrPair(subnet(r, b.pl.probeSrc, b.pl.probeSrc.Addr().BitLen()-4))
		b.mod("-m iprange %s--src-range %s-%s", n, lo, hi)
		b.cond.srcRange, b.cond.srcRNeg = [2]netip.Addr{lo, hi}, neg
		return
	}
	pf := b.pl.dstNets[r.IntN(len(b.pl.dstNets))]
	lo, hi := b.addrPair(pf)
	b.mod("-m iprange %s--dst-range %s-%s", n, lo, hi)
	b.cond.dstRange, b.cond.dstRNeg = [2]netip.Addr{lo, hi}, neg
}

// addrPair returns two ordered random addresses of pf.
func (b *rb) addrPair(pf netip.Prefix) (netip.Addr, netip.Addr) {
	x, y := randIn(b.g.r, pf), randIn(b.g.r, pf)
	if y.Less(x) {
		x, y = y, x
	}
	return x, y
}

// length adds -m length with one value or a range.
func (b *rb) length() {
	r := b.g.r
	lo := 20 + r.IntN(1200)
	hi := lo
	if r.IntN(3) != 0 {
		hi = lo + r.IntN(1500-lo+1)
	}
	n, neg := b.neg(20)
	if lo == hi {
		b.mod("-m length %s--length %d", n, lo)
	} else {
		b.mod("-m length %s--length %d:%d", n, lo, hi)
	}
	b.cond.length, b.cond.lenNeg = [2]int{lo, hi}, neg
}

// ttl adds -m ttl (IPv4) or -m hl (IPv6); only the equality test can be negated.
func (b *rb) ttl() {
	r := b.g.r
	mod, pre := "ttl", "--ttl-"
	if b.fam == 6 {
		mod, pre = "hl", "--hl-"
	}
	op := []string{"eq", "gt", "lt"}[r.IntN(3)]
	val := []int{1, 2, 63, 64, 65, 128, 254, 255}[r.IntN(8)]
	n, neg := "", false
	if op == "eq" {
		n, neg = b.neg(25)
	}
	b.mod("-m %s %s%s%s %d", mod, n, pre, op, val)
	b.cond.ttlOp, b.cond.ttlVal, b.cond.ttlNeg = op, val, neg
}
