package exposure

import (
	"math/big"
	"net/netip"
)

// addrRange is an inclusive address range of one family.
type addrRange struct{ lo, hi netip.Addr }

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

// representative picks a non-martian address of r, or false when r holds
// only martian addresses.
func representative(r addrRange, local func(netip.Addr) bool) (netip.Addr, bool) {
	a := r.lo
	for i := 0; i < 64 && a.IsValid() && a.Compare(r.hi) <= 0; i++ {
		bad, end := martian(a, local)
		if !bad {
			return a, true
		}
		a = end.Next()
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

func toInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

func fromInt(x *big.Int, v4 bool) netip.Addr {
	n := 16
	if v4 {
		n = 4
	}
	b := make([]byte, n)
	x.FillBytes(b)
	a, _ := netip.AddrFromSlice(b)
	return a
}

// cidrs splits an inclusive range into the fewest prefixes.
func cidrs(r addrRange) []netip.Prefix {
	var out []netip.Prefix
	bits := r.lo.BitLen()
	lo, hi := toInt(r.lo), toInt(r.hi)
	one := big.NewInt(1)
	for lo.Cmp(hi) <= 0 {
		size := bits
		for size > 0 {
			block := new(big.Int).Lsh(one, uint(bits-size+1))
			if new(big.Int).Mod(lo, block).Sign() != 0 {
				break
			}
			end := new(big.Int).Add(lo, block)
			if end.Sub(end, one).Cmp(hi) > 0 {
				break
			}
			size--
		}
		out = append(out, netip.PrefixFrom(fromInt(lo, r.lo.Is4()), size))
		lo.Add(lo, new(big.Int).Lsh(one, uint(bits-size)))
	}
	return out
}
