package diff

import (
	"net/netip"
	"slices"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// mergePrefixes returns the fewest CIDRs covering the same addresses as
// cidrs (the exposure map splits the source space wherever any rule looks
// at a source; a change seen from all of those pieces is seen from their
// union). Strings that are not prefixes are kept as they are.
func mergePrefixes(cidrs []string) []string {
	type span struct{ lo, hi netip.Addr }
	var spans []span
	out := []string{}
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			out = append(out, s)
			continue
		}
		spans = append(spans, span{p.Masked().Addr(), nf.LastAddr(p)})
	}
	slices.SortFunc(spans, func(x, y span) int { return x.lo.Compare(y.lo) })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && merged[n-1].lo.Is4() == s.lo.Is4() && adjacentOrOverlapping(merged[n-1].hi, s.lo) {
			if merged[n-1].hi.Less(s.hi) {
				merged[n-1].hi = s.hi
			}
			continue
		}
		merged = append(merged, s)
	}
	for _, s := range merged {
		out = append(out, rangeCIDRs(s.lo, s.hi)...)
	}
	return out
}

func adjacentOrOverlapping(hi, lo netip.Addr) bool {
	next := hi.Next()
	return !next.IsValid() || !next.Less(lo)
}

// rangeCIDRs splits lo..hi into the fewest aligned prefixes.
func rangeCIDRs(lo, hi netip.Addr) []string {
	var out []string
	for lo.IsValid() && !hi.Less(lo) {
		bits := lo.BitLen()
		for bits > 0 {
			p := netip.PrefixFrom(lo, bits-1)
			if p.Masked().Addr() != lo || hi.Less(nf.LastAddr(p)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(lo, bits)
		out = append(out, p.String())
		lo = nf.LastAddr(p).Next()
	}
	return out
}
