package netfilter

import "sort"

// minIndexedRules is the chain length from which Validate indexes a chain.
const minIndexedRules = 32

// ChainIndex lets the simulator skip rules that cannot match a packet
// without changing the outcome: rules whose leading pure matches include an
// exact destination address (or destination port) test are filed under
// that value; the others are "wild" and always tried. The candidates are
// merged in rule order, so the first matching rule is the same one the
// kernel's linear scan finds, and a skipped rule would have stopped at a
// failing match before any side effect.
type ChainIndex struct {
	Field Field
	byKey map[uint64][]int32
	byAdr map[[16]byte][]int32
	wild  []int32
}

// Candidates appends to buf the 0-based positions of the rules that may
// match p, in order.
func (ix *ChainIndex) Candidates(p *Packet, buf []int32) []int32 {
	var keyed []int32
	switch ix.Field {
	case FieldDst:
		keyed = ix.byAdr[p.Dst.As16()]
	case FieldDPort:
		if HasPorts(p.Proto) {
			keyed = ix.byKey[uint64(p.DPort)]
		}
	}
	return mergeSorted(buf[:0], keyed, ix.wild)
}

func mergeSorted(dst, a, b []int32) []int32 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			dst = append(dst, a[i])
			i++
		} else {
			dst = append(dst, b[j])
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// buildIndex indexes a chain on the field most of its rules pin down.
func buildIndex(c *Chain) *ChainIndex {
	if len(c.Rules) < minIndexedRules {
		return nil
	}
	best, bestN := Field(0), 0
	for _, f := range []Field{FieldDst, FieldDPort} {
		n := 0
		for _, r := range c.Rules {
			if _, ok := pinned(r, f); ok {
				n++
			}
		}
		if n > bestN {
			best, bestN = f, n
		}
	}
	if bestN*2 < len(c.Rules) {
		return nil
	}
	ix := &ChainIndex{Field: best, byKey: map[uint64][]int32{}, byAdr: map[[16]byte][]int32{}}
	for i, r := range c.Rules {
		vals, ok := pinned(r, best)
		if !ok {
			ix.wild = append(ix.wild, int32(i))
			continue
		}
		for _, v := range vals {
			if best == FieldDst {
				k := v.AddrLo().As16()
				ix.byAdr[k] = appendOnce(ix.byAdr[k], int32(i))
			} else {
				ix.byKey[v.Lo] = appendOnce(ix.byKey[v.Lo], int32(i))
			}
		}
	}
	for _, l := range ix.byKey {
		sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
	}
	return ix
}

func appendOnce(l []int32, i int32) []int32 {
	if n := len(l); n > 0 && l[n-1] == i {
		return l
	}
	return append(l, i)
}

// pinned returns the exact values a rule's leading pure matches require
// for field f, if any.
func pinned(r *Rule, f Field) ([]Value, bool) {
	for _, e := range r.Exprs {
		switch m := e.(type) {
		case *FieldMatch:
			if m.Field == f && !m.Neg && m.Mask == 0 && m.Op == OpIn && len(m.Values) > 0 && len(m.Values) <= 8 && allSingle(m.Values) {
				return m.Values, true
			}
		case *CommentMatch, *AddrTypeMatch:
		default:
			return nil, false
		}
	}
	return nil, false
}

func allSingle(vs []Value) bool {
	for _, v := range vs {
		if !v.IsSingle() || v.Kind == ValString {
			return false
		}
	}
	return true
}
