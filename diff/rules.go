package diff

import (
	"regexp"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// minSimilarity is the share of expressions two rules in one gap of the
// alignment must have more than in common to be reported as one changed
// rule rather than a deletion and an insertion: Docker's DNAT for 8080
// and an unrelated one for 7002 share half (interface and protocol), which
// is not enough.
const minSimilarity = 0.5

// maxPairWork bounds the pairs of one gap compared for similarity; a larger
// gap (two chains with little in common) pairs its k-th deletion only with
// its k-th insertion.
const maxPairWork = 1 << 16

// ruleKey is a rule's identity: the expressions it parsed into, in order,
// and its comment. Counters, positions and the spelling of the dump (-S,
// iptables-save, -L) are not part of it.
func ruleKey(r *nf.Rule) string {
	var b strings.Builder
	for _, e := range r.Exprs {
		b.WriteString(e.String())
		b.WriteByte(0)
	}
	b.WriteString("\x01")
	b.WriteString(r.Comment())
	return b.String()
}

// nftCounter is an nft counter statement with its values.
var nftCounter = regexp.MustCompile(`\bcounter packets [0-9]+ bytes [0-9]+`)

// ruleText is the rule as its dump spelled it, without the counter values
// of iptables-save -c ("[p:b] -A ...") and nft ("counter packets p bytes
// b"), which move with traffic.
func ruleText(r *nf.Rule) string {
	s := cleanText(r.Text)
	if s == "" {
		parts := make([]string, len(r.Exprs))
		for i, e := range r.Exprs {
			parts[i] = e.String()
		}
		s = strings.Join(parts, " ")
	}
	return s
}

// cleanText removes counter values from a rule's text.
func cleanText(text string) string {
	s := strings.TrimSpace(text)
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			s = strings.TrimSpace(s[end+1:])
		}
	}
	return nftCounter.ReplaceAllString(s, "counter")
}

func source(r *nf.Rule) string {
	pos := r.Pos()
	if pos.Line == 0 {
		return ""
	}
	return pos.String()
}

func rulesOf(c *nf.Chain) []*nf.Rule {
	if c == nil {
		return nil
	}
	return c.Rules
}

// step is one entry of a chain's reconciled edit script.
type step struct {
	kind Kind // "" for an unchanged rule
	a, b *nf.Rule
	key  int // the rule's interned key
}

// rules compares the rules of two chains (either may be nil).
func (d *differ) rules(t *nf.Table, ca, cb *nf.Chain) {
	for _, s := range chainSteps(rulesOf(ca), rulesOf(cb)) {
		if s.kind == "" {
			continue
		}
		c := Change{Kind: s.kind}
		r, chain := s.b, cb
		if s.a != nil {
			c.PositionBefore, c.TextBefore, c.SourceBefore = s.a.Index(), ruleText(s.a), source(s.a)
		}
		if s.b != nil {
			c.PositionAfter, c.TextAfter, c.SourceAfter = s.b.Index(), ruleText(s.b), source(s.b)
		} else {
			r, chain = s.a, ca
		}
		c.Chain = chain.Name
		d.add(t, c, d.at.rule(t, chain, r))
	}
}

// chainSteps aligns two rule lists and reconciles what the alignment left
// out on both sides: the same rule deleted in one place and inserted in
// another is a move; a deletion and an insertion in the same gap that
// share most of their expressions are one changed rule.
func chainSteps(as, bs []*nf.Rule) []step {
	ka, kb := internKeys(as, bs)
	var steps []step
	for _, e := range align(ka, kb) {
		switch e.Op {
		case opEqual:
			steps = append(steps, step{a: as[e.I], b: bs[e.J], key: ka[e.I]})
		case opDelete:
			steps = append(steps, step{kind: RuleDeleted, a: as[e.I], key: ka[e.I]})
		case opInsert:
			steps = append(steps, step{kind: RuleInserted, b: bs[e.J], key: kb[e.J]})
		}
	}
	steps = pairMoves(steps)
	return pairChanges(steps)
}

// internKeys numbers the distinct rule keys of both lists.
func internKeys(as, bs []*nf.Rule) (ka, kb []int) {
	ids := map[string]int{}
	id := func(r *nf.Rule) int {
		k := ruleKey(r)
		n, ok := ids[k]
		if !ok {
			n = len(ids)
			ids[k] = n
		}
		return n
	}
	for _, r := range as {
		ka = append(ka, id(r))
	}
	for _, r := range bs {
		kb = append(kb, id(r))
	}
	return ka, kb
}

// pairMoves turns a deletion and an insertion of the same rule into one
// move, reported where the rule now is. Deletions pair with insertions of
// the same key in chain order.
func pairMoves(steps []step) []step {
	dels := map[int][]int{}
	for i, s := range steps {
		if s.kind == RuleDeleted {
			dels[s.key] = append(dels[s.key], i)
		}
	}
	drop := map[int]bool{}
	for i, s := range steps {
		if s.kind != RuleInserted {
			continue
		}
		k := s.key
		if q := dels[k]; len(q) > 0 {
			steps[i] = step{kind: RuleMoved, a: steps[q[0]].a, b: s.b}
			drop[q[0]] = true
			dels[k] = q[1:]
		}
	}
	out := steps[:0:0]
	for i, s := range steps {
		if !drop[i] {
			out = append(out, s)
		}
	}
	return out
}

// pairChanges pairs, within each gap between unchanged rules, deletions
// with insertions: a one-for-one gap is one rule replaced in place;
// otherwise each deletion pairs with the most similar insertion above
// minSimilarity. A pair is reported at the insertion's place.
func pairChanges(steps []step) []step {
	var out []step
	for start := 0; start < len(steps); {
		end := start
		for end < len(steps) && steps[end].kind != "" {
			end++
		}
		out = append(out, pairGap(steps[start:end])...)
		if end < len(steps) {
			out = append(out, steps[end])
		}
		start = end + 1
	}
	return out
}

func pairGap(gap []step) []step {
	var dels, ins []int
	for i, s := range gap {
		switch s.kind {
		case RuleDeleted:
			dels = append(dels, i)
		case RuleInserted:
			ins = append(ins, i)
		}
	}
	threshold := minSimilarity
	if len(dels) == 1 && len(ins) == 1 {
		threshold = -1 // one rule replaced another in place (iptables -R)
	}
	drop := map[int]bool{}
	for k, di := range dels {
		cands := ins
		if len(dels)*len(ins) > maxPairWork {
			cands = nil // too large to compare all pairs: only the same place
			if k < len(ins) {
				cands = ins[k : k+1]
			}
		}
		if best := bestMatch(gap, gap[di].a, cands, threshold); best >= 0 {
			gap[best] = step{kind: RuleChanged, a: gap[di].a, b: gap[best].b}
			drop[di] = true
		}
	}
	out := make([]step, 0, len(gap))
	for i, s := range gap {
		if !drop[i] {
			out = append(out, s)
		}
	}
	return out
}

// bestMatch returns the index of the still unpaired insertion most similar
// to deleted rule a, above threshold, or -1.
func bestMatch(gap []step, a *nf.Rule, ins []int, threshold float64) int {
	best, bestSim := -1, threshold
	for _, ii := range ins {
		if gap[ii].kind != RuleInserted {
			continue
		}
		if s := similarity(a, gap[ii].b); s > bestSim {
			best, bestSim = ii, s
		}
	}
	return best
}

// similarity is the Dice coefficient of two rules' expression multisets:
// 1 for the same expressions in any order, 0 for nothing in common.
func similarity(a, b *nf.Rule) float64 {
	if len(a.Exprs)+len(b.Exprs) == 0 {
		return 1
	}
	seen := map[string]int{}
	for _, e := range a.Exprs {
		seen[e.String()]++
	}
	common := 0
	for _, e := range b.Exprs {
		if k := e.String(); seen[k] > 0 {
			seen[k]--
			common++
		}
	}
	return 2 * float64(common) / float64(len(a.Exprs)+len(b.Exprs))
}
