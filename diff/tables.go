package diff

import (
	"cmp"
	"slices"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// tablePair is a table on both sides, or on one (the other nil).
type tablePair struct{ a, b *nf.Table }

// pairTables matches the tables of two rulesets by family, name and
// backend. A table whose dump did not say its iptables flavour (`iptables
// -S`, an iptables-save without its header) matches the one iptables
// table of the same family and name left on the other side, so that
// `iptables -S` before and iptables-save after compare. Pairs come sorted
// by family, name and backend.
func pairTables(as, bs []*nf.Table) []tablePair {
	used := map[*nf.Table]bool{}
	var out []tablePair
	for _, a := range as {
		if b := findTable(bs, used, a, true); b != nil {
			used[b] = true
			out = append(out, tablePair{a, b})
		}
	}
	paired := map[*nf.Table]bool{}
	for _, p := range out {
		paired[p.a] = true
	}
	for _, a := range as {
		if paired[a] {
			continue
		}
		b := findTable(bs, used, a, false)
		if b != nil {
			used[b] = true
		}
		out = append(out, tablePair{a, b})
	}
	for _, b := range bs {
		if !used[b] {
			out = append(out, tablePair{nil, b})
		}
	}
	slices.SortStableFunc(out, func(x, y tablePair) int { return compareTables(cmp.Or(x.b, x.a), cmp.Or(y.b, y.a)) })
	return out
}

// findTable finds the unused table in bs that a pairs with: the same
// backend (exact), or, when one flavour is unknown, the only iptables table
// of that family and name.
func findTable(bs []*nf.Table, used map[*nf.Table]bool, a *nf.Table, exact bool) *nf.Table {
	var found *nf.Table
	n := 0
	for _, b := range bs {
		if used[b] || b.Family != a.Family || b.Name != a.Name {
			continue
		}
		if exact && b.Backend == a.Backend {
			return b
		}
		if !exact && looseBackend(a.Backend, b.Backend) {
			found, n = b, n+1
		}
	}
	if n == 1 {
		return found
	}
	return nil
}

// looseBackend reports whether two iptables flavours may be the same
// table, one of them being unknown.
func looseBackend(x, y nf.Backend) bool {
	if x == nf.BackendNft || y == nf.BackendNft {
		return false
	}
	return x == nf.BackendUnknown || y == nf.BackendUnknown
}

func compareTables(x, y *nf.Table) int {
	return cmp.Or(cmp.Compare(x.Family, y.Family), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Backend, y.Backend))
}
