package netfilter

import (
	"testing"
	"unsafe"
)

// TestRuleRecordSize keeps the rule record at 64 bytes: a 10k-Service
// kube-proxy dump has 320,000 of them (docs/PERFORMANCE.md, memory).
func TestRuleRecordSize(t *testing.T) {
	if got := unsafe.Sizeof(Rule{}); got != 64 {
		t.Errorf("Rule is %d bytes, want 64", got)
	}
	if got := unsafe.Sizeof(Chain{}); got != 72 {
		t.Errorf("Chain is %d bytes, want 72", got)
	}
}

func TestRuleTarget(t *testing.T) {
	jump := &VerdictExpr{V: Verdict{Kind: VerdictJump, Chain: "KUBE-SEP-ABC"}}
	tests := []struct {
		name   string
		exprs  []Expr
		set    string
		want   string
		stored bool // the name needs the side record
	}{
		{"jump gives its chain", []Expr{jump}, "KUBE-SEP-ABC", "KUBE-SEP-ABC", false},
		{"goto gives its chain", []Expr{&VerdictExpr{V: Verdict{Kind: VerdictGoto, Chain: "X"}}}, "X", "X", false},
		{"accept", []Expr{&VerdictExpr{V: Verdict{Kind: VerdictAccept}}}, "ACCEPT", "ACCEPT", false},
		{"dnat", []Expr{&NATStmt{Kind: NATDNAT}}, "DNAT", "DNAT", false},
		{"no target", []Expr{&CommentMatch{Text: "c"}}, "", "", false},
		{"mark is recorded", []Expr{&MarkStmt{}}, "MARK", "MARK", true},
		{"nft statement text differs from the verdict name", []Expr{jump}, "jump KUBE-SEP-ABC", "jump KUBE-SEP-ABC", true},
		{"a rule told it has no target keeps that", []Expr{jump}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Rule{Exprs: tc.exprs}
			r.SetTarget(tc.set)
			if got := r.Target(); got != tc.want {
				t.Errorf("Target() = %q, want %q", got, tc.want)
			}
			if (r.ext != nil) != tc.stored {
				t.Errorf("side record allocated = %v, want %v", r.ext != nil, tc.stored)
			}
		})
	}
}

// TestRuleLineAndZeroCounters: the line and the [0:0] flag share one
// word; setting either keeps the other.
func TestRuleLineAndZeroCounters(t *testing.T) {
	r := &Rule{}
	r.SetCounters(Counters{Known: true})
	r.SetPos(Pos{Line: 1_000_000})
	if got := r.Counters(); got != (Counters{Known: true}) {
		t.Errorf("Counters() = %+v, want known zero", got)
	}
	if got := r.Pos().Line; got != 1_000_000 {
		t.Errorf("line = %d, want 1000000", got)
	}
	r.SetCounters(Counters{})
	if got := r.Counters(); got.Known {
		t.Errorf("Counters() = %+v after clearing, want unknown", got)
	}
	if got := r.Pos().Line; got != 1_000_000 {
		t.Errorf("line = %d after clearing counters, want 1000000", got)
	}
	r.SetCounters(Counters{Known: true, Packets: 3, Bytes: 180})
	if got := r.Counters(); got.Packets != 3 || got.Bytes != 180 || r.ext == nil {
		t.Errorf("Counters() = %+v, want 3 packets 180 bytes in the side record", got)
	}
}

// TestRuleSideRecordKeepsZeroCounters: known [0:0] counters recorded
// before a side record is made (a target or comment the expressions do
// not give, set later) stay known.
func TestRuleSideRecordKeepsZeroCounters(t *testing.T) {
	r := &Rule{Exprs: []Expr{&NATStmt{Kind: NATSNAT}}}
	r.SetCounters(Counters{Known: true})
	r.SetTarget("snat ip to 203.0.113.1")
	r.SetComment("c")
	if got := r.Counters(); got != (Counters{Known: true}) {
		t.Errorf("Counters() = %+v, want known zero", got)
	}
	c := &Chain{}
	c.SetCounters(Counters{Known: true})
	c.SetPos(Pos{File: "other.nft", Line: 3})
	if got := c.Counters(); got != (Counters{Known: true}) {
		t.Errorf("chain Counters() = %+v, want known zero", got)
	}
}

func TestRuleIndex(t *testing.T) {
	c := &Chain{Name: "C"}
	a, b, x := &Rule{}, &Rule{}, &Rule{}
	c.AddRule(a)
	c.AddRule(b)
	c.InsertRule(1, x)
	for want, r := range []*Rule{x, a, b} {
		if r.Index() != want+1 {
			t.Errorf("rule %d has Index() %d", want+1, r.Index())
		}
	}
}
