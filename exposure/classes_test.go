package exposure

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPartitionByMembership checks partition against membership computed
// port by port: every member of the set is in exactly one class, and two
// members share a class exactly when the same ranges hold them.
func TestPartitionByMembership(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	for n := range 300 {
		top := int32(8 + r.IntN(120))
		var set []portRange
		for lo := int32(r.IntN(4)); lo <= top; {
			hi := min(top, lo+int32(r.IntN(12)))
			set = append(set, portRange{lo, hi})
			lo = hi + 2 + int32(r.IntN(5))
		}
		var rs []portRange
		for range r.IntN(8) {
			lo := int32(r.IntN(int(top) + 4))
			rs = append(rs, portRange{lo, lo + int32(r.IntN(20))})
		}
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			classes := portAxis.partition(set, slices.Clone(rs))
			holders := func(p int32) string {
				var s []int
				for i, x := range rs {
					if x.lo <= p && p <= x.hi {
						s = append(s, i)
					}
				}
				// Equal ranges hold the same members: compare by value.
				var vals []portRange
				for _, i := range s {
					vals = append(vals, rs[i])
				}
				slices.SortFunc(vals, func(a, b portRange) int { return int(a.lo-b.lo)*1000 + int(a.hi-b.hi) })
				return fmt.Sprint(slices.Compact(vals))
			}
			classOf := map[int32]int{}
			for ci, c := range classes {
				for i, iv := range c {
					if iv.lo > iv.hi || i > 0 && c[i-1].hi+1 >= iv.lo {
						t.Fatalf("class %d: intervals %v are not sorted, disjoint and apart", ci, c)
					}
					for p := iv.lo; p <= iv.hi; p++ {
						if _, dup := classOf[p]; dup {
							t.Fatalf("port %d in two classes: %v", p, classes)
						}
						classOf[p] = ci
					}
				}
			}
			for _, iv := range set {
				for p := iv.lo; p <= iv.hi; p++ {
					if _, ok := classOf[p]; !ok {
						t.Fatalf("port %d of the set in no class: %v", p, classes)
					}
				}
			}
			if len(classOf) != countMembers(set) {
				t.Fatalf("classes %v hold ports outside the set %v", classes, set)
			}
			for p, ci := range classOf {
				for q, cj := range classOf {
					if (ci == cj) != (holders(p) == holders(q)) {
						t.Fatalf("ports %d and %d: classes %d and %d, held by %s and %s", p, q, ci, cj, holders(p), holders(q))
					}
				}
			}
		})
	}
}

func countMembers(set []portRange) int {
	n := 0
	for _, iv := range set {
		n += int(iv.hi - iv.lo + 1)
	}
	return n
}
