package netfilter

import (
	"fmt"
	"net/netip"
	"strings"
)

// CmpOp is how a FieldMatch compares.
type CmpOp uint8

// Comparison operators.
const (
	// OpIn: the (masked) value is one of Values.
	OpIn CmpOp = iota
	// OpAnyBit: (value & Mask) != 0 (ct state NEW,ESTABLISHED).
	OpAnyBit
	OpLt
	OpGt
	OpLe
	OpGe
)

// FieldMatch is the common match: one packet field compared with constant
// values. It covers -p, -s/-d, -i/-o, tcp/udp ports, multiport, iprange,
// --tcp-flags, icmp types, conntrack/state, mark/connmark, length, ttl/hl,
// pkttype, tos, and nft's payload/meta/ct comparisons.
//
// Absent fields (a port of an ICMP packet; a conntrack field of an
// untracked packet) never match, negated or not: the kernel's tcp/udp
// matches and nft's payload loads break out of the rule when the header is
// not there.
type FieldMatch struct {
	// Fields are ordered for size (40 bytes: one per address match of a
	// large dump).

	// Mask, when non-zero, is applied to the packet's integer value first.
	Mask   uint64
	Values []Value
	Field  Field
	Op     CmpOp
	Neg    bool
	// AbsentMatches makes a negated match hold when the field is absent
	// (iptables `! -i eth0` on a hook without an input interface, where the
	// empty name is simply not eth0).
	AbsentMatches bool
}

// Eval implements Expr.
func (m *FieldMatch) Eval(c *Ctx) Outcome {
	ok, present := m.test(c.Pkt)
	if !present {
		return boolOutcome(m.Neg && m.AbsentMatches)
	}
	return boolOutcome(ok != m.Neg)
}

func (m *FieldMatch) test(p *Packet) (ok, present bool) {
	switch m.Field {
	case FieldSrc:
		return m.inAddr(p.Src), true
	case FieldDst:
		return m.inAddr(p.Dst), true
	case FieldCTOrigSrc:
		return m.inAddr(p.CT.OrigSrc), p.CT.Attached
	case FieldCTOrigDst:
		return m.inAddr(p.CT.OrigDst), p.CT.Attached
	case FieldInIface:
		return m.inString(p.InIface), true
	case FieldOutIface:
		return m.inString(p.OutIface), true
	case FieldSrcMAC:
		return m.inString(p.SrcMAC), p.SrcMAC != ""
	case FieldPorts:
		if !HasPorts(p.Proto) {
			return false, false
		}
		return m.inInt(uint64(p.SPort)) || m.inInt(uint64(p.DPort)), true
	}
	v, present := p.fieldInt(m.Field)
	if !present {
		return false, false
	}
	return m.inInt(v), true
}

func (m *FieldMatch) inInt(v uint64) bool {
	if m.Mask != 0 {
		v &= m.Mask
	}
	switch m.Op {
	case OpAnyBit:
		return v != 0
	case OpLt:
		return len(m.Values) > 0 && v < m.Values[0].Lo
	case OpGt:
		return len(m.Values) > 0 && v > m.Values[0].Lo
	case OpLe:
		return len(m.Values) > 0 && v <= m.Values[0].Lo
	case OpGe:
		return len(m.Values) > 0 && v >= m.Values[0].Lo
	}
	for _, x := range m.Values {
		if x.ContainsInt(v) {
			return true
		}
	}
	return false
}

func (m *FieldMatch) inAddr(a netip.Addr) bool {
	x, fam := splitAddr(a)
	for i := range m.Values {
		if m.Values[i].containsAddr(x, fam) {
			return true
		}
	}
	return false
}

func (m *FieldMatch) inString(s string) bool {
	for _, x := range m.Values {
		if x.ContainsString(s) {
			return true
		}
	}
	return false
}

func (m *FieldMatch) String() string {
	var b strings.Builder
	if m.Neg {
		b.WriteString("!= ")
	}
	b.WriteString(m.Field.String())
	if m.Mask != 0 {
		fmt.Fprintf(&b, " & 0x%x", m.Mask)
	}
	switch m.Op {
	case OpAnyBit:
		b.WriteString(" != 0")
		return b.String()
	case OpLt:
		b.WriteString(" <")
	case OpGt:
		b.WriteString(" >")
	case OpLe:
		b.WriteString(" <=")
	case OpGe:
		b.WriteString(" >=")
	}
	vals := make([]string, len(m.Values))
	for i, v := range m.Values {
		vals[i] = v.String()
	}
	if len(vals) == 1 {
		b.WriteString(" " + vals[0])
	} else {
		b.WriteString(" { " + strings.Join(vals, ", ") + " }")
	}
	return b.String()
}
