package exposure

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// fullRange is every address of a's family.
func fullRange(a netip.Addr) addrRange {
	if a.Is4() {
		return addrRange{netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255})}
	}
	var ones [16]byte
	for i := range ones {
		ones[i] = 0xff
	}
	return addrRange{netip.IPv6Unspecified(), netip.AddrFrom16(ones)}
}

// martianV4 and martianV6 are sources the kernel never accepts from a
// wire interface (ip_route_input_slow's martian source checks;
// ip6_rcv_core's multicast/loopback checks): a remote scanner cannot use
// them, so the analysis does not report them.
var (
	martianV4 = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("224.0.0.0/4"), netip.MustParsePrefix("240.0.0.0/4"),
	}
	martianV6 = []netip.Prefix{
		netip.MustParsePrefix("::/127"), netip.MustParsePrefix("::ffff:0:0/96"), netip.MustParsePrefix("ff00::/8"),
	}
)

// martian reports whether a cannot be a remote source, and where the
// martian block containing it ends.
func martian(a netip.Addr, local func(netip.Addr) bool) (bool, netip.Addr) {
	list := martianV6
	if a.Is4() {
		list = martianV4
	}
	for _, p := range list {
		if p.Contains(a) {
			return true, lastAddr(p)
		}
	}
	if local(a) {
		return true, a
	}
	return false, a
}

// representative picks a non-martian address of the ranges, or false
// when they hold only martian addresses.
func representative(rs []addrRange, local func(netip.Addr) bool) (netip.Addr, bool) {
	for _, r := range rs {
		a := r.lo
		for i := 0; i < 64 && a.IsValid() && a.Compare(r.hi) <= 0; i++ {
			bad, end := martian(a, local)
			if !bad {
				return a, true
			}
			a = end.Next()
		}
	}
	return netip.Addr{}, false
}

// lastAddr is the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// u128 is an address as a 128-bit number (an IPv4 address in the low 32
// bits).
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func fromU128(x u128, v4 bool) netip.Addr {
	if v4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(x.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

// trailingZeros counts the low zero bits (128 for zero).
func (x u128) trailingZeros() int {
	if x.lo != 0 {
		return bits.TrailingZeros64(x.lo)
	}
	return 64 + bits.TrailingZeros64(x.hi)
}

// ones is 2^k - 1.
func ones(k int) u128 {
	switch {
	case k == 0:
		return u128{}
	case k < 64:
		return u128{lo: 1<<k - 1}
	case k == 64:
		return u128{lo: ^uint64(0)}
	}
	return u128{hi: 1<<(k-64) - 1, lo: ^uint64(0)}
}

func (x u128) or(y u128) u128   { return u128{x.hi | y.hi, x.lo | y.lo} }
func (x u128) less(y u128) bool { return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo }

// next is x+1.
func (x u128) next() u128 {
	lo, c := bits.Add64(x.lo, 1, 0)
	return u128{x.hi + c, lo}
}

// cidrs splits an inclusive range into the fewest prefixes.
func cidrs(r addrRange) []netip.Prefix {
	var out []netip.Prefix
	width := r.lo.BitLen()
	v4 := r.lo.Is4()
	lo, hi, top := toU128(r.lo), toU128(r.hi), ones(width)
	for !hi.less(lo) {
		// The largest block aligned at lo that ends at or before hi.
		k := min(lo.trailingZeros(), width)
		for k > 0 && hi.less(lo.or(ones(k))) {
			k--
		}
		out = append(out, netip.PrefixFrom(fromU128(lo, v4), width-k))
		last := lo.or(ones(k))
		if last == top {
			break
		}
		lo = last.next()
	}
	return out
}

func inRange(r addrRange, a netip.Addr) bool { return a.Compare(r.lo) >= 0 && a.Compare(r.hi) <= 0 }
