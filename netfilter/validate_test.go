package netfilter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validateTable builds one filter table from "CHAIN>TARGET" jumps (a
// chain named INPUT is the base chain) and validates it.
func validateTable(t *testing.T, jumps ...string) ([]Problem, []Warning) {
	t.Helper()
	tb := NewTable(FamilyIPv4, "filter", BackendNft)
	chain := func(name string) *Chain {
		c := &Chain{Name: name}
		if name == "INPUT" {
			c.Base = &BaseChain{Type: ChainTypeFilter, Hook: HookInput, Policy: VerdictAccept}
		}
		return tb.AddChain(c)
	}
	for _, j := range jumps {
		from, to, _ := strings.Cut(j, ">")
		c := chain(from)
		if to != "" {
			c.AddRule(&Rule{Exprs: []Expr{&VerdictExpr{V: Verdict{Kind: VerdictJump, Chain: to}}}})
			chain(to)
		}
	}
	rs := &Ruleset{Tables: []*Table{tb}}
	err := Validate(rs)
	var ve *ValidationError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("Validate: %v", err)
	}
	if ve == nil {
		return nil, rs.Warnings
	}
	return ve.Problems, rs.Warnings
}

// TestValidateLoopNamesTheRule: the problem names the jump that closes
// the loop, not the chain's first jump.
func TestValidateLoopNamesTheRule(t *testing.T) {
	probs, _ := validateTable(t, "INPUT>A", "A>B", "A>C", "C>D", "C>A", "B")
	var got []string
	for _, p := range probs {
		got = append(got, fmt.Sprintf("%s#%d %s", p.Chain, p.Rule, p.Msg))
	}
	want := []string{`C#2 JUMP to "A" closes a loop`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems differ (-want +got):\n%s", diff)
	}
}

// TestValidateDepth: the nesting limit counts jumps below a base chain,
// and a chain reached twice is walked once.
func TestValidateDepth(t *testing.T) {
	tests := []struct {
		name  string
		depth int
		want  int // problems
	}{
		{"at the limit", MaxJumpDepth, 0},
		{"one over", MaxJumpDepth + 1, 1},
		{"thousands deep", 5000, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			jumps := []string{"INPUT>C0"}
			for i := 0; i < tc.depth-1; i++ {
				jumps = append(jumps, fmt.Sprintf("C%d>C%d", i, i+1), fmt.Sprintf("INPUT>C%d", i+1))
			}
			probs, _ := validateTable(t, jumps...)
			if len(probs) != tc.want {
				t.Fatalf("got %d problems %v, want %d", len(probs), probs, tc.want)
			}
			if tc.want > 0 && !strings.Contains(probs[0].Msg, fmt.Sprintf("nest %d deep", tc.depth)) {
				t.Errorf("got %q, want nesting %d", probs[0].Msg, tc.depth)
			}
		})
	}
}
