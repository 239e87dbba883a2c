package exposure

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sort"
)

// span is an inclusive interval of one probe dimension (ports or source
// addresses).
type span[T any] struct{ lo, hi T }

// portRange is an inclusive port interval.
type portRange = span[int32]

// addrRange is an inclusive address range of one family.
type addrRange = span[netip.Addr]

// axis is the order of one probe dimension.
type axis[T any] struct {
	cmp func(a, b T) int
	// next is the successor, false past the end of the space; prev the
	// predecessor (of a member that has one).
	next func(T) (T, bool)
	prev func(T) T
}

var (
	portAxis = axis[int32]{cmp: cmp.Compare[int32],
		next: func(p int32) (int32, bool) { return p + 1, p < 65535 },
		prev: func(p int32) int32 { return p - 1 }}
	addrAxis = axis[netip.Addr]{cmp: netip.Addr.Compare,
		next: func(a netip.Addr) (netip.Addr, bool) {
			n := a.Next()
			return n, n.IsValid()
		},
		prev: netip.Addr.Prev}
)

// splits reports whether r starts or ends strictly inside s (so that it
// may hold some members of s and not others).
func (x axis[T]) splits(r, s span[T]) bool {
	return x.cmp(s.lo, r.lo) < 0 && x.cmp(r.lo, s.hi) <= 0 || x.cmp(s.lo, r.hi) <= 0 && x.cmp(r.hi, s.hi) < 0
}

func (x axis[T]) contains(set []span[T], v T) bool {
	for _, s := range set {
		if x.cmp(s.lo, v) <= 0 && x.cmp(v, s.hi) <= 0 {
			return true
		}
	}
	return false
}

// rangeList holds many ranges (a chain index's) sorted by start and by
// end, to find quickly those that split a span.
type rangeList[T any] struct{ byLo, byHi []span[T] }

func (x axis[T]) newRangeList(rs []span[T]) rangeList[T] {
	l := rangeList[T]{byLo: slices.Clone(rs), byHi: slices.Clone(rs)}
	slices.SortFunc(l.byLo, func(a, b span[T]) int { return x.cmp(a.lo, b.lo) })
	slices.SortFunc(l.byHi, func(a, b span[T]) int { return x.cmp(a.hi, b.hi) })
	return l
}

// splitting appends the ranges of l that split s.
func (x axis[T]) splitting(l rangeList[T], s span[T], out []span[T]) []span[T] {
	i := sort.Search(len(l.byLo), func(i int) bool { return x.cmp(l.byLo[i].lo, s.lo) > 0 })
	for ; i < len(l.byLo) && x.cmp(l.byLo[i].lo, s.hi) <= 0; i++ {
		out = append(out, l.byLo[i])
	}
	j := sort.Search(len(l.byHi), func(j int) bool { return x.cmp(l.byHi[j].hi, s.lo) >= 0 })
	for ; j < len(l.byHi) && x.cmp(l.byHi[j].hi, s.hi) < 0; j++ {
		out = append(out, l.byHi[j])
	}
	return out
}

// partition groups the members of set (sorted, disjoint intervals) by the
// ranges of rs holding them: members held by exactly the same ranges form
// one class, whatever their distance (a rule treats them alike). Classes
// come in the order of their first member, each as sorted intervals.
func (x axis[T]) partition(set []span[T], rs []span[T]) [][]span[T] {
	slices.SortFunc(rs, func(a, b span[T]) int { return cmp.Or(x.cmp(a.lo, b.lo), x.cmp(a.hi, b.hi)) })
	rs = slices.CompactFunc(rs, func(a, b span[T]) bool { return x.cmp(a.lo, b.lo) == 0 && x.cmp(a.hi, b.hi) == 0 })
	type event struct {
		at    T
		id    int32
		start bool
	}
	evs := make([]event, 0, 2*len(rs))
	for i, r := range rs {
		evs = append(evs, event{r.lo, int32(i), true})
		if end, ok := x.next(r.hi); ok {
			evs = append(evs, event{end, int32(i), false})
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int { return x.cmp(a.at, b.at) })
	var active []int32
	g := grouping[T]{x: x, byKey: map[string]int{}}
	e := 0
	for _, iv := range set {
		for cur := iv.lo; ; {
			for ; e < len(evs) && x.cmp(evs[e].at, cur) <= 0; e++ {
				active = toggle(active, evs[e].id, evs[e].start)
			}
			piece := span[T]{cur, iv.hi}
			if e < len(evs) && x.cmp(evs[e].at, iv.hi) <= 0 {
				// The next event starts a new piece.
				piece.hi = x.prev(evs[e].at)
			}
			g.add(active, piece)
			if x.cmp(piece.hi, iv.hi) >= 0 {
				break
			}
			cur, _ = x.next(piece.hi)
		}
	}
	return g.classes
}

// grouping gathers pieces by the ranges holding them.
type grouping[T any] struct {
	x       axis[T]
	classes [][]span[T]
	byKey   map[string]int
	key     []byte
}

// add files piece under the set of ranges active, joining it to the
// class's last interval when they touch.
func (g *grouping[T]) add(active []int32, piece span[T]) {
	g.key = g.key[:0]
	for _, id := range active {
		g.key = binary.LittleEndian.AppendUint32(g.key, uint32(id))
	}
	ci, ok := g.byKey[string(g.key)]
	if !ok {
		ci = len(g.classes)
		g.byKey[string(g.key)] = ci
		g.classes = append(g.classes, nil)
	}
	c := g.classes[ci]
	if n := len(c); n > 0 {
		if nx, ok := g.x.next(c[n-1].hi); ok && g.x.cmp(nx, piece.lo) == 0 {
			c[n-1].hi = piece.hi
			return
		}
	}
	g.classes[ci] = append(c, piece)
}

// toggle adds (start) or removes id from the sorted set.
func toggle(set []int32, id int32, start bool) []int32 {
	i, found := slices.BinarySearch(set, id)
	switch {
	case start && !found:
		return slices.Insert(set, i, id)
	case !start && found:
		return slices.Delete(set, i, i+1)
	}
	return set
}
