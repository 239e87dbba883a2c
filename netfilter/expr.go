package netfilter

// Expr is one element of a rule: a match (which may end the rule), a
// statement (which changes the packet or its conntrack entry and goes on),
// or a verdict. nft rules are lists of such expressions; an iptables rule
// becomes its header matches, its -m matches in order, then its target.
type Expr interface {
	// Eval evaluates the expression for the packet in c. It may change
	// c.Pkt (statements); matches must not.
	Eval(c *Ctx) Outcome
	// String renders the expression for people.
	String() string
}

// Ctx is what an expression sees.
type Ctx struct {
	Pkt   *Packet
	Hook  Hook
	Table *Table
	Env   *Env
}

// OutcomeKind says how rule evaluation goes on after an expression.
type OutcomeKind uint8

// Outcome kinds.
const (
	// OutNext: the expression held (or was a statement): go on.
	OutNext OutcomeKind = iota
	// OutNoMatch: a match failed; the rule ends, the next rule is tried.
	OutNoMatch
	// OutVerdict: the rule decides (Outcome.Verdict).
	OutVerdict
	// OutFork: the result cannot be known from the packet; each Branch is
	// evaluated in its place, with its probability and assumption.
	OutFork
)

// Outcome is the result of evaluating an expression.
type Outcome struct {
	Kind     OutcomeKind
	Verdict  Verdict
	Branches []Branch
	// Assumption, when set, records that this result relied on something
	// the tool cannot see and the user (or a default) stated.
	Assumption string
}

// Branch is one possible result of a forked expression. Then is evaluated
// in place of the forked expression.
type Branch struct {
	// Prob is the probability of this branch given the packet; 0 when the
	// branch rests on an assumption rather than a known distribution.
	Prob float64
	// Assumption says what must hold for this branch ("" for pure chance,
	// such as statistic --mode random).
	Assumption string
	Then       Expr
}

// Helpers for the common outcomes.
var (
	outNext    = Outcome{Kind: OutNext}
	outNoMatch = Outcome{Kind: OutNoMatch}
)

// boolOutcome turns a match result into an outcome.
func boolOutcome(ok bool) Outcome {
	if ok {
		return outNext
	}
	return outNoMatch
}

// Const is an expression with a fixed result: True matches, False does not.
// Forks use it as the branch for "the match held" / "did not hold".
type Const bool

// Eval implements Expr.
func (k Const) Eval(*Ctx) Outcome { return boolOutcome(bool(k)) }

func (k Const) String() string {
	if k {
		return "(true)"
	}
	return "(false)"
}

// VerdictExpr is a verdict expression: iptables -j ACCEPT/DROP/RETURN/chain,
// -g chain, REJECT; nft accept/drop/jump/goto/return/reject.
type VerdictExpr struct{ V Verdict }

// Eval implements Expr.
func (e *VerdictExpr) Eval(*Ctx) Outcome { return Outcome{Kind: OutVerdict, Verdict: e.V} }

func (e *VerdictExpr) String() string { return e.V.String() }
