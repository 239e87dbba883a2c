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

// merge overlays o's conditions on c; o (deeper in the path) wins on conflict.
func (c cond) merge(o cond) cond {
	if o.proto >= 0 {
		c.proto, c.protoNeg = o.proto, o.protoNeg
	}
	if o.src.IsValid() {
		c.src, c.srcNeg = o.src, o.srcNeg
	}
	if o.dst.IsValid() {
		c.dst, c.dstNeg = o.dst, o.dstNeg
	}
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
	return c
}
