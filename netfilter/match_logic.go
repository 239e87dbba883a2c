package netfilter

import (
	"fmt"
	"strings"
)

// NotAll holds when not all of its pure matches hold: the negation of a
// conjunction, as `! --icmp-type 3/3` negates "type 3 and code 3".
type NotAll struct{ Exprs []Expr }

// Eval implements Expr.
func (m *NotAll) Eval(c *Ctx) Outcome {
	for _, e := range m.Exprs {
		if e.Eval(c).Kind == OutNoMatch {
			return outNext
		}
	}
	return outNoMatch
}

func (m *NotAll) String() string { return "!(" + exprList(m.Exprs, " && ") + ")" }

// AnyOf holds when one of its pure matches holds (xor Neg), as --ctstate
// NEW,DNAT tests the state or the DNAT status bit.
type AnyOf struct {
	Exprs []Expr
	Neg   bool
}

// Eval implements Expr.
func (m *AnyOf) Eval(c *Ctx) Outcome {
	for _, e := range m.Exprs {
		if e.Eval(c).Kind == OutNext {
			return boolOutcome(!m.Neg)
		}
	}
	return boolOutcome(m.Neg)
}

func (m *AnyOf) String() string { return neg(m.Neg) + "(" + exprList(m.Exprs, " || ") + ")" }

func exprList(es []Expr, sep string) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, sep)
}

// IfKnown evaluates Match when the packet carries its field (a MAC source,
// a socket owner) and forks otherwise, marking each branch with the
// assumption, unless the user stated one for Key.
type IfKnown struct {
	Match *FieldMatch
	Key   string
	Text  string
}

// Eval implements Expr.
func (m *IfKnown) Eval(c *Ctx) Outcome {
	if _, present := m.Match.test(c.Pkt); present {
		return m.Match.Eval(c)
	}
	if v, ok := c.Env.Assumed(m.Key); ok {
		o := boolOutcome(v)
		o.Assumption = fmt.Sprintf("%q assumed to %s (--assume %s=%t)", m.Text, matchWord(v), m.Key, v)
		return o
	}
	return Outcome{Kind: OutFork, Branches: []Branch{
		{Assumption: fmt.Sprintf("%q matched (%s not known)", m.Text, m.Match.Field), Then: Const(true)},
		{Assumption: fmt.Sprintf("%q did not match (%s not known)", m.Text, m.Match.Field), Then: Const(false)},
	}}
}

func (m *IfKnown) String() string { return m.Text }
