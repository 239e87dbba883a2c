package netfilter

import (
	"encoding/binary"
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

// Address families of a compact address (addr128.fam, Value.fam).
const (
	famNone uint8 = iota
	fam4
	fam6
)

// addr128 is an address as two 64-bit halves: an IPv4 address is its
// 32-bit number in low; an IPv6 address (IPv4-mapped ones included) is its
// 128 bits, top first. Zones are not kept.
type addr128 struct{ top, low uint64 }

// splitAddr returns a's halves and family (famNone for the zero Addr).
func splitAddr(a netip.Addr) (addr128, uint8) {
	switch {
	case a.Is4():
		b := a.As4()
		return addr128{low: uint64(binary.BigEndian.Uint32(b[:]))}, fam4
	case a.Is6():
		b := a.As16()
		return addr128{top: binary.BigEndian.Uint64(b[:8]), low: binary.BigEndian.Uint64(b[8:])}, fam6
	}
	return addr128{}, famNone
}

// addr rebuilds the netip.Addr of family fam.
func (x addr128) addr(fam uint8) netip.Addr {
	switch fam {
	case fam4:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(x.low))
		return netip.AddrFrom4(b)
	case fam6:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], x.top)
		binary.BigEndian.PutUint64(b[8:], x.low)
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

func (x addr128) less(y addr128) bool { return x.top < y.top || x.top == y.top && x.low < y.low }

// lastOf is the highest address of family fam.
func lastOf(fam uint8) addr128 {
	if fam == fam6 {
		return addr128{top: ^uint64(0), low: ^uint64(0)}
	}
	return addr128{low: 0xffffffff}
}

// compactRange returns lo..hi compactly. A zone is dropped (rules carry
// none). An invalid hi means lo; an hi of the other family than lo is taken
// as the last address of lo's family (as the family-checked comparison of
// full addresses ordered them).
func compactRange(lo, hi netip.Addr) (l, h addr128, fam uint8) {
	l, fam = splitAddr(lo)
	if fam == famNone {
		return addr128{}, addr128{}, famNone
	}
	h, hfam := splitAddr(hi)
	switch hfam {
	case famNone:
		h = l
	case fam:
	default:
		h = lastOf(fam)
	}
	return l, h, fam
}

// Value is a constant a match compares with: an integer or integer range,
// an address, prefix or address range, or a string (an interface name,
// possibly a wildcard). Ranges are inclusive.
//
// A Value is kept small (56 bytes, one per address match of a large dump):
// address values are built only by PrefixValue, AddrValue and AddrRange and
// read with AddrLo and AddrHi; they keep no IPv6 zone.
type Value struct {
	// Lo and Hi are the integer range. For an address value they hold the
	// low 64 bits of the range's ends (an IPv4 address whole): read the
	// addresses with AddrLo and AddrHi.
	Lo, Hi uint64
	// loTop and hiTop are the top 64 bits of IPv6 range ends.
	loTop, hiTop uint64
	// Str is an interface name; Wildcard means it matches every name with
	// Str as prefix (iptables "eth+", nft "eth*").
	Str string
	// Bits keeps an address value's prefix length for printing (a prefix
	// is stored as its range), -1 for a plain range.
	Bits     int16
	Kind     ValueKind
	Wildcard bool
	fam      uint8
}

// IntValue returns an exact integer value.
func IntValue(v uint64) Value { return Value{Kind: ValInt, Lo: v, Hi: v} }

// IntRange returns an inclusive integer range.
func IntRange(lo, hi uint64) Value { return Value{Kind: ValInt, Lo: lo, Hi: hi} }

func addrValue(lo, hi netip.Addr, bits int) Value {
	l, h, fam := compactRange(lo, hi)
	return Value{Kind: ValAddr, Lo: l.low, Hi: h.low, loTop: l.top, hiTop: h.top, Bits: int16(bits), fam: fam}
}

// PrefixValue returns the address range of a prefix (its zone dropped).
func PrefixValue(p netip.Prefix) Value {
	p = p.Masked()
	return addrValue(p.Addr(), LastAddr(p), p.Bits())
}

// AddrValue returns a single address (its zone dropped).
func AddrValue(a netip.Addr) Value { return addrValue(a, a, a.BitLen()) }

// AddrRange returns an inclusive address range (xt_iprange, nft ranges).
// Zones are dropped; hi should be of lo's family (one of the other family
// is taken as the last address of lo's family).
func AddrRange(lo, hi netip.Addr) Value { return addrValue(lo, hi, -1) }

// AddrLo returns the first address of an address value, the zero Addr for
// other values.
func (v Value) AddrLo() netip.Addr {
	if v.Kind != ValAddr {
		return netip.Addr{}
	}
	return addr128{v.loTop, v.Lo}.addr(v.fam)
}

// AddrHi returns the last address of an address value, the zero Addr for
// other values.
func (v Value) AddrHi() netip.Addr {
	if v.Kind != ValAddr {
		return netip.Addr{}
	}
	return addr128{v.hiTop, v.Hi}.addr(v.fam)
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
	x, fam := splitAddr(a)
	return v.containsAddr(x, fam)
}

// containsAddr is ContainsAddr on an address split once by splitAddr.
func (v *Value) containsAddr(x addr128, fam uint8) bool {
	if v.Kind != ValAddr || fam == famNone || fam != v.fam {
		return false
	}
	if fam == fam4 {
		return x.low >= v.Lo && x.low <= v.Hi
	}
	return !x.less(addr128{v.loTop, v.Lo}) && !(addr128{v.hiTop, v.Hi}).less(x)
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
		return v.Lo == v.Hi && v.loTop == v.hiTop
	}
	return !v.Wildcard
}

func (v Value) String() string {
	switch v.Kind {
	case ValAddr:
		lo := v.AddrLo()
		if v.IsSingle() {
			return lo.String()
		}
		if v.Bits >= 0 {
			return netip.PrefixFrom(lo, int(v.Bits)).String()
		}
		return lo.String() + "-" + v.AddrHi().String()
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
