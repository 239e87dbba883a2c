package netfilter

import "fmt"

// MaxJumpDepth is the deepest chain nesting nf_tables accepts
// (NFT_JUMP_STACK_SIZE; nf_tables_api.c refuses deeper rulesets with
// EMLINK). ip_tables (legacy) sizes its stack from the ruleset instead, so
// there a deeper nesting is only a warning.
const MaxJumpDepth = 16

// Validate checks a ruleset once, at load, the way the kernel would before
// accepting it, resolves jump targets, and builds the lookup indexes the
// simulator uses. Problems the kernel would refuse are returned as a
// *ValidationError; doubts are appended to rs.Warnings.
func Validate(rs *Ruleset) error {
	var probs []Problem
	for _, t := range rs.Tables {
		probs = append(probs, resolveTargets(t)...)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	for _, t := range rs.Tables {
		p, w := checkGraph(t)
		probs = append(probs, p...)
		rs.Warnings = append(rs.Warnings, w...)
	}
	for _, t := range rs.Tables {
		probs = append(probs, checkHooks(t)...)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			c.Index = buildIndex(c)
		}
		for _, s := range t.Sets {
			s.BuildIndex()
		}
	}
	return nil
}

// verdictsOf returns the verdicts a rule can reach: its verdict
// expressions and the verdicts in the maps it looks up.
func verdictsOf(t *Table, r *Rule) []*Verdict {
	var out []*Verdict
	for _, e := range r.Exprs {
		out = append(out, exprVerdicts(t, e)...)
	}
	return out
}

func exprVerdicts(t *Table, e Expr) []*Verdict {
	switch x := e.(type) {
	case *VerdictExpr:
		return []*Verdict{&x.V}
	case *VMapExpr:
		s := x.Anon
		if s == nil {
			s = t.Sets[x.Map]
		}
		return setVerdicts(s)
	case interface{ Verdicts() []*Verdict }:
		return x.Verdicts()
	}
	return nil
}

func setVerdicts(s *Set) []*Verdict {
	if s == nil {
		return nil
	}
	var out []*Verdict
	for i := range s.Elements {
		if d := s.Elements[i].Data; d != nil && d.Verdict != nil {
			out = append(out, d.Verdict)
		}
	}
	return out
}

func resolveTargets(t *Table) []Problem {
	var probs []Problem
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			for _, v := range verdictsOf(t, r) {
				if v.Kind != VerdictJump && v.Kind != VerdictGoto {
					continue
				}
				v.Target = t.Chain(v.Chain)
				switch {
				case v.Target == nil:
					probs = append(probs, problem(t, c, r, fmt.Sprintf("%s to chain %q, which does not exist", v.Kind, v.Chain)))
				case v.Target.Base != nil:
					probs = append(probs, problem(t, c, r, fmt.Sprintf("%s to base chain %q is not allowed", v.Kind, v.Chain)))
				}
			}
		}
	}
	return probs
}

func problem(t *Table, c *Chain, r *Rule, msg string) Problem {
	p := Problem{Table: t.String(), Chain: c.Name, Msg: msg}
	if r != nil {
		p.Rule, p.Pos = r.Index, r.Pos
	} else {
		p.Pos = c.Pos
	}
	return p
}

// checkGraph finds loops and measures nesting depth from every base chain.
func checkGraph(t *Table) ([]Problem, []Warning) {
	const (
		unseen = iota
		onStack
		done
	)
	state := map[*Chain]int{}
	depth := map[*Chain]int{}
	var probs []Problem
	var visit func(c *Chain) int
	visit = func(c *Chain) int {
		switch state[c] {
		case onStack:
			return -1
		case done:
			return depth[c]
		}
		state[c] = onStack
		d := 0
		for _, r := range c.Rules {
			for _, v := range verdictsOf(t, r) {
				if v.Target == nil {
					continue
				}
				sub := visit(v.Target)
				if sub < 0 {
					probs = append(probs, problem(t, c, r, fmt.Sprintf("%s to %q closes a loop", v.Kind, v.Chain)))
					state[c] = done
					return 0
				}
				d = max(d, sub+1)
			}
		}
		state[c] = done
		depth[c] = d
		return d
	}
	var warns []Warning
	for _, c := range t.Chains {
		if c.Base == nil {
			continue
		}
		if d := visit(c); d > MaxJumpDepth {
			msg := fmt.Sprintf("%s %s: chains nest %d deep, more than the kernel's %d", t, c.Name, d, MaxJumpDepth)
			if t.Backend == BackendLegacy {
				warns = append(warns, Warning{Pos: c.Pos, Message: msg})
			} else {
				probs = append(probs, Problem{Table: t.String(), Chain: c.Name, Pos: c.Pos, Msg: msg})
			}
		}
	}
	for _, c := range t.Chains {
		if state[c] == unseen {
			visit(c)
		}
	}
	return probs, warns
}

// reachableHooks returns, for every chain, the hooks from which it can be
// reached (the kernel's mark_source_chains / nft_chain_validate).
func reachableHooks(t *Table) map[*Chain]uint8 {
	hooks := map[*Chain]uint8{}
	var walk func(c *Chain, mask uint8)
	walk = func(c *Chain, mask uint8) {
		if hooks[c]&mask == mask {
			return
		}
		hooks[c] |= mask
		for _, r := range c.Rules {
			for _, v := range verdictsOf(t, r) {
				if v.Target != nil {
					walk(v.Target, mask)
				}
			}
		}
	}
	for _, c := range t.Chains {
		if c.Base != nil {
			walk(c, 1<<c.Base.Hook)
		}
	}
	return hooks
}

// checkHooks refuses targets used where the kernel does not allow them.
func checkHooks(t *Table) []Problem {
	hooks := reachableHooks(t)
	var probs []Problem
	for _, c := range t.Chains {
		mask := hooks[c]
		if mask == 0 {
			continue
		}
		natChain := chainIsNAT(t, c)
		for _, r := range c.Rules {
			for _, e := range r.Exprs {
				if msg := allowedHere(t, e, mask, natChain); msg != "" {
					probs = append(probs, problem(t, c, r, msg))
				}
			}
		}
	}
	return probs
}

// chainIsNAT: the chain belongs to a nat table (iptables) or is a nat base
// chain (nft, where only base chains have a type).
func chainIsNAT(t *Table, c *Chain) bool {
	if t.IsIptables() {
		return t.Name == "nat"
	}
	return c.Base == nil || c.Base.Type == ChainTypeNAT
}

func allowedHere(t *Table, e Expr, mask uint8, natChain bool) string {
	allowed, what := allowedHooks(t, e)
	if what == "" {
		return ""
	}
	if _, isNAT := e.(*NATStmt); isNAT && !natChain {
		return what + " is only valid in the nat table"
	}
	if _, isNotrack := e.(*NotrackStmt); isNotrack && t.IsIptables() && t.Name != "raw" {
		return what + " is only valid in the raw table"
	}
	if bad := mask &^ allowed; bad != 0 {
		return fmt.Sprintf("%s used from %s, but only valid from %s", what, hookList(bad), hookList(allowed))
	}
	return ""
}

func hm(hs ...Hook) uint8 {
	var m uint8
	for _, h := range hs {
		m |= 1 << h
	}
	return m
}

func allowedHooks(t *Table, e Expr) (uint8, string) {
	switch x := e.(type) {
	case *NATStmt:
		switch x.Kind {
		case NATDNAT, NATRedirect:
			return hm(HookPrerouting, HookOutput), x.Kind.String()
		case NATSNAT:
			return hm(HookPostrouting, HookInput), x.Kind.String()
		case NATMasquerade:
			return hm(HookPostrouting), x.Kind.String()
		}
	case *NotrackStmt:
		// xt_CT's checkentry confines NOTRACK to the raw table's hooks;
		// nft's notrack expression has no validate hook and loads anywhere.
		if !t.IsIptables() {
			return 0, ""
		}
		return hm(HookPrerouting, HookOutput), "NOTRACK"
	case *VerdictExpr:
		if x.V.Kind == VerdictReject {
			if t.IsIptables() {
				return hm(HookInput, HookForward, HookOutput), "REJECT"
			}
			return hm(HookPrerouting, HookInput, HookForward, HookOutput), "reject"
		}
	}
	return 0, ""
}

func hookList(mask uint8) string {
	s := ""
	for h := Hook(0); h < NumHooks; h++ {
		if mask&(1<<h) != 0 {
			if s != "" {
				s += "/"
			}
			s += h.String()
		}
	}
	return s
}
