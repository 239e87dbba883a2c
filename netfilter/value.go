package netfilter

import (
	"fmt"
	"net/netip"
	"strings"
)

// ValueKind says what a Value holds.
type ValueKind uint8

// Value kinds.
const (
	ValInt ValueKind = iota
	ValAddr
	ValString
)

// Value is a constant a match compares with: an integer or integer range,
// an address, prefix or address range, or a string (an interface name,
// possibly a wildcard). Ranges are inclusive.
type Value struct {
	Lo, Hi uint64
	// Addresses: AddrLo..AddrHi inclusive (a prefix is stored as its range;
	// Bits keeps the prefix length for printing, -1 for a plain range).
	AddrLo, AddrHi netip.Addr
	// Str is an interface name; Wildcard means it matches every name with
	// Str as prefix (iptables "eth+", nft "eth*").
	Str      string
	Bits     int
	Kind     ValueKind
	Wildcard bool
}

// IntValue returns an exact integer value.
func IntValue(v uint64) Value { return Value{Kind: ValInt, Lo: v, Hi: v} }

// IntRange returns an inclusive integer range.
func IntRange(lo, hi uint64) Value { return Value{Kind: ValInt, Lo: lo, Hi: hi} }

// PrefixValue returns the address range of a prefix.
func PrefixValue(p netip.Prefix) Value {
	p = p.Masked()
	return Value{Kind: ValAddr, AddrLo: p.Addr(), AddrHi: LastAddr(p), Bits: p.Bits()}
}

// AddrValue returns a single address.
func AddrValue(a netip.Addr) Value {
	return Value{Kind: ValAddr, AddrLo: a, AddrHi: a, Bits: a.BitLen()}
}

// AddrRange returns an inclusive address range (xt_iprange, nft ranges).
func AddrRange(lo, hi netip.Addr) Value {
	return Value{Kind: ValAddr, AddrLo: lo, AddrHi: hi, Bits: -1}
}

// IfaceValue returns an interface name value; a trailing "+" (iptables) or
// "*" (nft) makes it a prefix wildcard.
func IfaceValue(name string) Value {
	v := Value{Kind: ValString, Str: name}
	if strings.HasSuffix(name, "+") || strings.HasSuffix(name, "*") {
		v.Str, v.Wildcard = name[:len(name)-1], true
	}
	return v
}

// LastAddr returns the last address of a prefix.
func LastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	bits := p.Bits()
	if bits == a.BitLen() {
		return a
	}
	b := a.As16()
	if a.Is4() {
		bits += 96
	}
	for i := range b {
		lo := i * 8
		switch {
		case lo >= bits:
			b[i] = 0xff
		case lo+8 > bits:
			b[i] |= byte(0xff >> (bits - lo))
		}
	}
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out.WithZone(a.Zone())
}

// ContainsInt reports whether integer x is in the value.
func (v Value) ContainsInt(x uint64) bool { return v.Kind == ValInt && x >= v.Lo && x <= v.Hi }

// ContainsAddr reports whether address a is in the value. Addresses of the
// other family never are.
func (v Value) ContainsAddr(a netip.Addr) bool {
	if v.Kind != ValAddr || !a.IsValid() || a.Is4() != v.AddrLo.Is4() {
		return false
	}
	return a.Compare(v.AddrLo) >= 0 && a.Compare(v.AddrHi) <= 0
}

// ContainsString reports whether interface name s is matched.
func (v Value) ContainsString(s string) bool {
	if v.Kind != ValString {
		return false
	}
	if v.Wildcard {
		return strings.HasPrefix(s, v.Str)
	}
	return s == v.Str
}

// IsSingle reports whether the value is exactly one integer or address.
func (v Value) IsSingle() bool {
	switch v.Kind {
	case ValInt:
		return v.Lo == v.Hi
	case ValAddr:
		return v.AddrLo == v.AddrHi
	}
	return !v.Wildcard
}

func (v Value) String() string {
	switch v.Kind {
	case ValAddr:
		if v.AddrLo == v.AddrHi {
			return v.AddrLo.String()
		}
		if v.Bits >= 0 {
			return netip.PrefixFrom(v.AddrLo, v.Bits).String()
		}
		return v.AddrLo.String() + "-" + v.AddrHi.String()
	case ValString:
		if v.Wildcard {
			return v.Str + "+"
		}
		return v.Str
	}
	if v.Lo == v.Hi {
		return fmt.Sprint(v.Lo)
	}
	return fmt.Sprintf("%d-%d", v.Lo, v.Hi)
}
