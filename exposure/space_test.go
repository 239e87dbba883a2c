package exposure

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestCIDRsTileRange checks that cidrs covers exactly the range, in order,
// and that no prefix could have been doubled (the fewest prefixes).
func TestCIDRsTileRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	addr := func(v4 bool) netip.Addr {
		b := make([]byte, 16)
		if v4 {
			b = b[:4]
		}
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(3) == 0 {
				b[i] = []byte{0, 255}[r.IntN(2)]
			}
		}
		a, _ := netip.AddrFromSlice(b)
		return a
	}
	for i := range 4000 {
		v4 := i%2 == 0
		lo, hi := addr(v4), addr(v4)
		if hi.Less(lo) {
			lo, hi = hi, lo
		}
		switch i % 5 {
		case 1:
			lo = fullRange(lo).lo
		case 2:
			hi = fullRange(lo).hi
		case 3:
			hi = lo
		}
		t.Run(fmt.Sprint(lo, "-", hi), func(t *testing.T) {
			ps := cidrs(addrRange{lo, hi})
			next := lo
			for j, p := range ps {
				if p.Addr() != next || p.Masked() != p {
					t.Fatalf("prefix %d %s: want an aligned prefix at %s (all: %v)", j, p, next, ps)
				}
				if p.Bits() > 0 {
					up := netip.PrefixFrom(p.Addr(), p.Bits()-1)
					if up.Masked() == up && !lastAddr(up).Less(lo) && !hi.Less(lastAddr(up)) {
						t.Fatalf("prefix %s could be %s (all: %v)", p, up, ps)
					}
				}
				next = lastAddr(p).Next()
			}
			if len(ps) == 0 || lastAddr(ps[len(ps)-1]) != hi {
				t.Fatalf("prefixes %v do not end at %s", ps, hi)
			}
		})
	}
}
