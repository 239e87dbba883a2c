package diff

import (
	"math/rand/v2"
	"testing"
)

// lcsLen is the textbook dynamic programme, the reference for align.
func lcsLen(a, b []int) int {
	prev := make([]int, len(b)+1)
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] > cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkScript verifies that es turns a into b, visits every item once in
// order, and keeps a longest common subsequence.
func checkScript(t *testing.T, a, b []int, es []edit) {
	t.Helper()
	i, j, eq := 0, 0, 0
	for _, e := range es {
		switch e.Op {
		case opEqual:
			if e.I != i || e.J != j || a[i] != b[j] {
				t.Fatalf("equal step %+v at i=%d j=%d: a=%v b=%v", e, i, j, a, b)
			}
			i, j, eq = i+1, j+1, eq+1
		case opDelete:
			if e.I != i {
				t.Fatalf("delete step %+v, want I=%d: a=%v b=%v", e, i, a, b)
			}
			i++
		case opInsert:
			if e.J != j {
				t.Fatalf("insert step %+v, want J=%d: a=%v b=%v", e, j, a, b)
			}
			j++
		}
	}
	if i != len(a) || j != len(b) {
		t.Fatalf("script ends at i=%d j=%d, want %d %d", i, j, len(a), len(b))
	}
	if want := lcsLen(a, b); eq != want {
		t.Fatalf("got %d equal steps, want LCS %d: a=%v b=%v", eq, want, a, b)
	}
}

func TestAlign(t *testing.T) {
	tests := []struct {
		name string
		a, b []int
	}{
		{"both empty", nil, nil},
		{"all inserted", nil, []int{1, 2}},
		{"all deleted", []int{1, 2}, nil},
		{"same", []int{1, 2, 3}, []int{1, 2, 3}},
		{"insert at 1", []int{1, 2, 3}, []int{9, 1, 2, 3}},
		{"delete middle", []int{1, 2, 3}, []int{1, 3}},
		{"replace", []int{1, 2, 3}, []int{1, 4, 3}},
		{"move", []int{1, 2, 3, 4}, []int{2, 3, 4, 1}},
		{"duplicates", []int{1, 1, 2, 1}, []int{1, 2, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkScript(t, tc.a, tc.b, align(tc.a, tc.b)) })
	}
}

func TestAlignRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := 0; n < 2000; n++ {
		a, b := randInts(r), randInts(r)
		checkScript(t, a, b, align(a, b))
	}
}

func randInts(r *rand.Rand) []int {
	out := make([]int, r.IntN(12))
	for i := range out {
		out[i] = r.IntN(4)
	}
	return out
}

func FuzzAlign(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 2, 1})
	f.Add([]byte{}, []byte{0, 0})
	f.Fuzz(func(t *testing.T, x, y []byte) {
		if len(x) > 200 || len(y) > 200 {
			return
		}
		a, b := bytesToInts(x), bytesToInts(y)
		checkScript(t, a, b, align(a, b))
	})
}

func bytesToInts(s []byte) []int {
	out := make([]int, len(s))
	for i, c := range s {
		out[i] = int(c % 8)
	}
	return out
}

// TestAlignLarge keeps a chain of thousands of rules that share nothing
// within bounds: the script is still valid (all deleted, all inserted).
func TestAlignLarge(t *testing.T) {
	a, b := make([]int, 6000), make([]int, 6000)
	for i := range a {
		a[i], b[i] = i, i+10000
	}
	es := align(a, b)
	if len(es) != 12000 {
		t.Fatalf("got %d steps, want 12000", len(es))
	}
	b[3000] = a[10] // one shared item: a valid script, not necessarily the longest
	es = align(a, b)
	i, j := 0, 0
	for _, e := range es {
		switch e.Op {
		case opEqual:
			i, j = i+1, j+1
		case opDelete:
			i++
		case opInsert:
			j++
		}
	}
	if i != len(a) || j != len(b) {
		t.Fatalf("script ends at %d %d, want %d %d", i, j, len(a), len(b))
	}
}
