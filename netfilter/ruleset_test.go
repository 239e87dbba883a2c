package netfilter

import (
	"strconv"
	"testing"
)

// chainTable returns a table with chains A, B, C, D, E, F in that order.
func chainTable(t *testing.T) *Table {
	t.Helper()
	tb := NewTable(FamilyIPv4, "nat", BackendLegacy)
	tb.Reserve(6)
	for _, n := range []string{"A", "B", "C", "D", "E", "F"} {
		if got := tb.AddChain(&Chain{Name: n}); got.Name != n || got.Table != tb {
			t.Fatalf("AddChain(%s): got chain %q of table %p, want %q of %p", n, got.Name, got.Table, n, tb)
		}
	}
	return tb
}

func TestAddChainKeepsTheFirst(t *testing.T) {
	tb := chainTable(t)
	first := tb.Chain("C")
	again := &Chain{Name: "C"}
	if got := tb.AddChain(again); got != first {
		t.Errorf("AddChain of a second C: got %p, want the first C %p", got, first)
	}
	if got := tb.Chain("C"); got != first {
		t.Errorf("Chain(C) after a second AddChain: got %p, want the first C %p", got, first)
	}
	if n := len(tb.Chains); n != 6 {
		t.Errorf("got %d chains, want 6", n)
	}
}

func TestChainAfter(t *testing.T) {
	tb := chainTable(t)
	removed := tb.Chain("B")
	tb2 := chainTable(t)
	for _, tc := range []struct {
		name string
		prev *Chain
		want string
	}{
		{"no previous chain", nil, "D"},
		{"the same chain", tb.Chain("D"), "D"},
		{"the next chain", tb.Chain("C"), "D"},
		{"within the look-ahead", tb.Chain("A"), "D"},
		{"beyond the look-ahead", tb.Chain("A"), "F"},
		{"before the previous chain", tb.Chain("E"), "A"},
		{"previous chain of another table", tb2.Chain("C"), "D"},
		{"unknown name", tb.Chain("C"), "X"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := tb.ChainAfter(tc.prev, tc.want), tb.Chain(tc.want)
			if got != want {
				t.Errorf("ChainAfter(%v, %q): got %p, want %p", tc.prev, tc.want, got, want)
			}
		})
	}
	t.Run("previous chain removed", func(t *testing.T) {
		if !tb.RemoveChain("B") {
			t.Fatal("RemoveChain(B) = false")
		}
		for _, n := range []string{"C", "A", "F"} {
			if got, want := tb.ChainAfter(removed, n), tb.Chain(n); got != want {
				t.Errorf("ChainAfter(removed B, %q): got %p, want %p", n, got, want)
			}
		}
		if got := tb.ChainAfter(tb.Chain("A"), "B"); got != nil {
			t.Errorf("ChainAfter(A, removed B): got %q, want nil", got.Name)
		}
		if got := tb.ChainAfter(tb.Chain("A"), "C"); got != tb.Chain("C") {
			t.Errorf("ChainAfter(A, C) after removing B: got %v, want C", got)
		}
	})
}

// TestChainNamesAgreeWithAMap adds, finds and removes many chains and
// checks every lookup against a plain map.
func TestChainNamesAgreeWithAMap(t *testing.T) {
	tb := NewTable(FamilyIPv4, "nat", BackendLegacy)
	want := map[string]*Chain{}
	name := func(i int) string { return "KUBE-SEP-" + strconv.Itoa(i*7919%100003) }
	for i := range 5000 {
		c := tb.AddChain(&Chain{Name: name(i)})
		if prev, ok := want[c.Name]; ok && prev != c {
			t.Fatalf("AddChain(%s) returned a new chain for a name already there", c.Name)
		}
		want[c.Name] = c
	}
	if dup := tb.AddChain(&Chain{Name: name(17)}); dup != want[name(17)] {
		t.Errorf("AddChain of an existing name returned %p, want the first chain %p", dup, want[name(17)])
	}
	for i := 0; i < 5000; i += 3 {
		if !tb.RemoveChain(name(i)) {
			t.Fatalf("RemoveChain(%s) = false", name(i))
		}
		delete(want, name(i))
	}
	if tb.RemoveChain("NO-SUCH") {
		t.Error("RemoveChain of a missing name = true")
	}
	if len(tb.Chains) != len(want) {
		t.Fatalf("got %d chains, want %d", len(tb.Chains), len(want))
	}
	for i := range 6000 {
		n := name(i)
		if got := tb.Chain(n); got != want[n] {
			t.Errorf("Chain(%s) = %p, want %p", n, got, want[n])
		}
	}
	for i, c := range tb.Chains {
		if int(c.at) != i || tb.Chain(c.Name) != c {
			t.Errorf("chain %s at %d records position %d", c.Name, i, c.at)
		}
	}
}
