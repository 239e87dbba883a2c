package netfilter

import "testing"

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
