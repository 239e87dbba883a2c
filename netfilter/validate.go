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
	graphs := make([]*graph, len(rs.Tables))
	var probs []Problem
	for i, t := range rs.Tables {
		graphs[i] = newGraph(t)
		probs = append(probs, graphs[i].resolve()...)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	for _, g := range graphs {
		p, w := g.checkDepth()
		probs = append(probs, p...)
		rs.Warnings = append(rs.Warnings, w...)
	}
	for _, g := range graphs {
		probs = append(probs, g.checkHooks()...)
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

// edge is a jump or goto from a rule.
type edge struct {
	rule *Rule
	v    *Verdict
}

// graph is a table's chains with their outgoing jump/goto edges, gathered
// in one pass over the rules.
type graph struct {
	t *Table
	// edges and restricted are indexed by Chain.vid.
	edges [][]edge
	// restricted lists the rules holding expressions the kernel allows
	// only on some hooks or tables.
	restricted [][]*Rule
	anyRestr   bool
}

func newGraph(t *Table) *graph {
	g := &graph{t: t, edges: make([][]edge, len(t.Chains)), restricted: make([][]*Rule, len(t.Chains))}
	for i, c := range t.Chains {
		c.vid = i
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			g.scan(c, r)
		}
	}
	return g
}

func (g *graph) scan(c *Chain, r *Rule) {
	marked := false
	for _, e := range r.Exprs {
		if !marked && restricted(e) {
			g.restricted[c.vid] = append(g.restricted[c.vid], r)
			marked, g.anyRestr = true, true
		}
		if x, ok := e.(*VerdictExpr); ok {
			if x.V.Kind == VerdictJump || x.V.Kind == VerdictGoto {
				g.edges[c.vid] = append(g.edges[c.vid], edge{r, &x.V})
			}
			continue
		}
		eachVerdict(g.t, e, func(v *Verdict) {
			if v.Kind == VerdictJump || v.Kind == VerdictGoto {
				g.edges[c.vid] = append(g.edges[c.vid], edge{r, v})
			}
		})
	}
}

// eachVerdict calls fn for every verdict expression e can produce: a
// verdict, or the verdicts of the map it looks up.
func eachVerdict(t *Table, e Expr, fn func(*Verdict)) {
	switch x := e.(type) {
	case *VerdictExpr:
		fn(&x.V)
	case *FieldMatch, *CommentMatch, *AddrTypeMatch, *NATStmt, *MarkStmt, *NopStmt, *StatisticMatch, *StatefulMatch, Const:
	case *VMapExpr:
		s := x.Anon
		if s == nil {
			s = t.Sets[x.Map]
		}
		eachSetVerdict(s, fn)
	case interface{ Verdicts() []*Verdict }:
		for _, v := range x.Verdicts() {
			fn(v)
		}
	}
}

func eachSetVerdict(s *Set, fn func(*Verdict)) {
	if s == nil {
		return
	}
	for i := range s.Elements {
		if d := s.Elements[i].Data; d != nil && d.Verdict != nil {
			fn(d.Verdict)
		}
	}
}

// resolve points every jump and goto at its chain.
func (g *graph) resolve() []Problem {
	var probs []Problem
	for _, c := range g.t.Chains {
		for _, e := range g.edges[c.vid] {
			v := e.v
			if v.Target == nil || v.Target.Name != v.Chain || v.Target.Table != g.t {
				v.Target = g.t.Chain(v.Chain)
			}
			switch {
			case v.Target == nil:
				probs = append(probs, problem(g.t, c, e.rule, fmt.Sprintf("%s to chain %q, which does not exist", v.Kind, v.Chain)))
			case v.Target.Base != nil:
				probs = append(probs, problem(g.t, c, e.rule, fmt.Sprintf("%s to base chain %q is not allowed", v.Kind, v.Chain)))
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

// checkDepth finds loops and measures nesting depth from every base chain.
func (g *graph) checkDepth() ([]Problem, []Warning) {
	const (
		unseen = iota
		onStack
		done
	)
	t := g.t
	state := make([]uint8, len(t.Chains))
	depth := make([]int, len(t.Chains))
	var probs []Problem
	var visit func(c *Chain) int
	visit = func(c *Chain) int {
		switch state[c.vid] {
		case onStack:
			return -1
		case done:
			return depth[c.vid]
		}
		state[c.vid] = onStack
		d := 0
		for _, e := range g.edges[c.vid] {
			sub := visit(e.v.Target)
			if sub < 0 {
				probs = append(probs, problem(t, c, e.rule, fmt.Sprintf("%s to %q closes a loop", e.v.Kind, e.v.Chain)))
				state[c.vid] = done
				return 0
			}
			d = max(d, sub+1)
		}
		state[c.vid] = done
		depth[c.vid] = d
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
		if state[c.vid] == unseen {
			visit(c)
		}
	}
	return probs, warns
}

// reachableHooks returns, for every chain, the hooks from which it can be
// reached (the kernel's mark_source_chains / nft_chain_validate).
func (g *graph) reachableHooks() []uint8 {
	hooks := make([]uint8, len(g.t.Chains))
	var walk func(c *Chain, mask uint8)
	walk = func(c *Chain, mask uint8) {
		if hooks[c.vid]&mask == mask {
			return
		}
		hooks[c.vid] |= mask
		for _, e := range g.edges[c.vid] {
			walk(e.v.Target, mask)
		}
	}
	for _, c := range g.t.Chains {
		if c.Base != nil {
			walk(c, 1<<c.Base.Hook)
		}
	}
	return hooks
}

// checkHooks refuses targets used where the kernel does not allow them.
func (g *graph) checkHooks() []Problem {
	if !g.anyRestr {
		return nil
	}
	t := g.t
	hooks := g.reachableHooks()
	var probs []Problem
	for _, c := range t.Chains {
		mask := hooks[c.vid]
		if mask == 0 || len(g.restricted[c.vid]) == 0 {
			continue
		}
		natChain := chainIsNAT(t, c)
		for _, r := range g.restricted[c.vid] {
			for _, e := range r.Exprs {
				if !restricted(e) {
					continue
				}
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

// restricted reports whether e is an expression the kernel allows only on
// some hooks or tables.
func restricted(e Expr) bool {
	switch x := e.(type) {
	case *NATStmt, *NotrackStmt:
		return true
	case *VerdictExpr:
		return x.V.Kind == VerdictReject
	}
	return false
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
