package randrules

import "net/netip"

// portRange is an inclusive port range.
type portRange struct{ lo, hi uint16 }

// cond is what a packet needs to match a rule, as far as a probe can steer it.
// Zero values mean "no condition".
type cond struct {
	proto    int // -1 none
	protoNeg bool
	src, dst netip.Prefix
	srcNeg   bool
	dstNeg   bool
	in, out  string
	inNeg    bool
	outNeg   bool
	sport    []portRange // any of; from --sport or multiport
	dport    []portRange
	sportNeg bool
	dportNeg bool
	flagMask byte
	flagComp byte
	flagSet  bool
	flagNeg  bool
	icmpType int // -1 none
	icmpCode int // -1 any
	icmpNeg  bool
	states   []string
	stateNeg bool
	dstType  string
	dstTNeg  bool
	srcRange [2]netip.Addr
	srcRNeg  bool
	dstRange [2]netip.Addr
	dstRNeg  bool
	length   [2]int // hi 0: none
	lenNeg   bool
	ttlOp    string // "eq", "gt", "lt"
	ttlVal   int
	ttlNeg   bool
	pktType  string
	pktNeg   bool
}

// noCond is the condition of a rule without matches.
func noCond() cond { return cond{proto: -1, icmpType: -1, icmpCode: -1} }

// merge overlays o's conditions on c; o (deeper in the path) wins where both set
// a field. It also reports whether the two can hold for one packet, as far as
// the steerable fields tell (protocol, addresses, devices, ports, flags, types).
func (c cond) merge(o cond) (cond, bool) {
	ok := c.compatible(o)
	if o.proto >= 0 {
		c.proto, c.protoNeg = o.proto, o.protoNeg
	}
	c.src, c.srcNeg = mergePrefix(c.src, c.srcNeg, o.src, o.srcNeg)
	c.dst, c.dstNeg = mergePrefix(c.dst, c.dstNeg, o.dst, o.dstNeg)
	if o.in != "" {
		c.in, c.inNeg = o.in, o.inNeg
	}
	if o.out != "" {
		c.out, c.outNeg = o.out, o.outNeg
	}
	if o.sport != nil {
		c.sport, c.sportNeg = o.sport, o.sportNeg
	}
	if o.dport != nil {
		c.dport, c.dportNeg = o.dport, o.dportNeg
	}
	if o.flagSet {
		c.flagSet, c.flagMask, c.flagComp, c.flagNeg = true, o.flagMask, o.flagComp, o.flagNeg
	}
	if o.icmpType >= 0 {
		c.icmpType, c.icmpCode, c.icmpNeg = o.icmpType, o.icmpCode, o.icmpNeg
	}
	if o.states != nil {
		c.states, c.stateNeg = o.states, o.stateNeg
	}
	if o.dstType != "" {
		c.dstType, c.dstTNeg = o.dstType, o.dstTNeg
	}
	if o.srcRange[0].IsValid() {
		c.srcRange, c.srcRNeg = o.srcRange, o.srcRNeg
	}
	if o.dstRange[0].IsValid() {
		c.dstRange, c.dstRNeg = o.dstRange, o.dstRNeg
	}
	if o.length[1] > 0 {
		c.length, c.lenNeg = o.length, o.lenNeg
	}
	if o.ttlOp != "" {
		c.ttlOp, c.ttlVal, c.ttlNeg = o.ttlOp, o.ttlVal, o.ttlNeg
	}
	if o.pktType != "" {
		c.pktType, c.pktNeg = o.pktType, o.pktNeg
	}
	return c, ok
}

// mergePrefix keeps the narrower of two positive prefixes, a positive one over a
// negated one, else the later.
func mergePrefix(a netip.Prefix, aNeg bool, b netip.Prefix, bNeg bool) (netip.Prefix, bool) {
	switch {
	case !b.IsValid():
		return a, aNeg
	case !a.IsValid():
		return b, bNeg
	case !aNeg && (bNeg || a.Bits() > b.Bits()):
		return a, aNeg
	}
	return b, bNeg
}

// compatible reports whether c and o can both hold (false only on a sure conflict).
func (c cond) compatible(o cond) bool {
	switch {
	case c.proto >= 0 && o.proto >= 0 && (c.proto == o.proto) == (c.protoNeg != o.protoNeg):
		return false
	case !prefixesCompatible(c.src, c.srcNeg, o.src, o.srcNeg), !prefixesCompatible(c.dst, c.dstNeg, o.dst, o.dstNeg):
		return false
	case c.in != "" && o.in != "" && !c.inNeg && !o.inNeg && c.in != o.in && !wild(c.in, o.in):
		return false
	case c.out != "" && o.out != "" && !c.outNeg && !o.outNeg && c.out != o.out && !wild(c.out, o.out):
		return false
	case c.ttlOp == "eq" && o.ttlOp == "eq" && !c.ttlNeg && !o.ttlNeg && c.ttlVal != o.ttlVal:
		return false
	case c.icmpType >= 0 && o.icmpType >= 0 && !c.icmpNeg && !o.icmpNeg && c.icmpType != o.icmpType:
		return false
	case c.pktType != "" && o.pktType != "" && (c.pktType == o.pktType) == (c.pktNeg != o.pktNeg):
		return false
	}
	return portsCompatible(c.dport, c.dportNeg, o.dport, o.dportNeg) && portsCompatible(c.sport, c.sportNeg, o.sport, o.sportNeg)
}

// wild reports whether one of two device names is a "+" wildcard covering the other.
func wild(x, y string) bool {
	covers := func(w, n string) bool {
		return len(w) > 0 && w[len(w)-1] == '+' && len(n) >= len(w)-1 && n[:len(w)-1] == w[:len(w)-1]
	}
	return covers(x, y) || covers(y, x)
}

// prefixesCompatible: two positive prefixes must overlap; a negated one must not
// cover a positive one.
func prefixesCompatible(a netip.Prefix, aNeg bool, b netip.Prefix, bNeg bool) bool {
	if !a.IsValid() || !b.IsValid() {
		return true
	}
	switch {
	case !aNeg && !bNeg:
		return a.Overlaps(b)
	case aNeg && !bNeg:
		return !(a.Bits() <= b.Bits() && a.Contains(b.Addr()))
	case !aNeg && bNeg:
		return !(b.Bits() <= a.Bits() && b.Contains(a.Addr()))
	}
	return true
}

// portsCompatible: two positive port sets must share a port.
func portsCompatible(a []portRange, aNeg bool, b []portRange, bNeg bool) bool {
	if a == nil || b == nil || aNeg || bNeg {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x.lo <= y.hi && y.lo <= x.hi {
				return true
			}
		}
	}
	return false
}
