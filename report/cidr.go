package report

import (
	"net/netip"
	"slices"
)

// sourcesText describes a set of source CIDRs for people: merged into the
// fewest prefixes ("0.0.0.0/0" when they cover every IPv4 source), or as
// everything but a few prefixes when that is shorter ("0.0.0.0/0 except
// 198.51.100.0/24"). Text that is not a prefix is kept as it is.
func sourcesText(sources []string) string {
	var v4, v6 []netip.Prefix
	var other []string
	for _, s := range sources {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			other = append(other, s)
		case p.Addr().Is4():
			v4 = append(v4, p.Masked())
		default:
			v6 = append(v6, p.Masked())
		}
	}
	var parts []string
	for _, fam := range []struct {
		ps  []netip.Prefix
		all netip.Prefix
	}{{v4, netip.MustParsePrefix("0.0.0.0/0")}, {v6, netip.MustParsePrefix("::/0")}} {
		if len(fam.ps) > 0 {
			parts = append(parts, familyText(aggregate(fam.ps), fam.all))
		}
	}
	return listText(append(parts, other...), 3)
}

func familyText(agg []netip.Prefix, all netip.Prefix) string {
	comp := complement(all, agg)
	if len(comp) > 0 && len(comp) <= 2 && len(comp) < len(agg) {
		return all.String() + " except " + prefixList(comp, 2)
	}
	return prefixList(agg, 2)
}

func prefixList(ps []netip.Prefix, n int) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return listText(out, n)
}

// aggregate merges prefixes of one family: contained prefixes are dropped
// and sibling halves joined into their parent, until nothing changes.
func aggregate(ps []netip.Prefix) []netip.Prefix {
	ps = slices.Clone(ps)
	for {
		slices.SortFunc(ps, comparePrefix)
		ps = slices.Compact(ps)
		out, merged := mergeOnce(ps)
		ps = out
		if !merged {
			return ps
		}
	}
}

// mergeOnce drops prefixes inside the previous one and joins adjacent
// siblings, in one pass over sorted prefixes.
func mergeOnce(ps []netip.Prefix) ([]netip.Prefix, bool) {
	var out []netip.Prefix
	merged := false
	for _, p := range ps {
		if n := len(out); n > 0 {
			last := out[n-1]
			switch {
			case last.Bits() <= p.Bits() && last.Contains(p.Addr()):
				merged = true
				continue
			case last.Bits() == p.Bits() && p.Bits() > 0 && parent(last) == parent(p):
				out[n-1] = parent(p)
				merged = true
				continue
			}
		}
		out = append(out, p)
	}
	return out, merged
}

func parent(p netip.Prefix) netip.Prefix {
	q, _ := p.Addr().Prefix(p.Bits() - 1)
	return q
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// complement lists the prefixes of u no prefix of ps covers (ps
// aggregated, of u's family).
func complement(u netip.Prefix, ps []netip.Prefix) []netip.Prefix {
	overlaps := false
	for _, p := range ps {
		if p.Bits() <= u.Bits() && p.Contains(u.Addr()) {
			return nil
		}
		overlaps = overlaps || p.Overlaps(u)
	}
	if !overlaps {
		return []netip.Prefix{u}
	}
	lo, _ := u.Addr().Prefix(u.Bits() + 1)
	hi := netip.PrefixFrom(halfAddr(u), u.Bits()+1)
	return append(complement(lo, ps), complement(hi, ps)...)
}

// halfAddr is the first address of u's upper half.
func halfAddr(u netip.Prefix) netip.Addr {
	b := u.Addr().AsSlice()
	i := u.Bits()
	b[i/8] |= 0x80 >> (i % 8)
	a, _ := netip.AddrFromSlice(b)
	return a
}
