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

// edge is a jump or goto from rule ri (0-based) of its chain; to is the
// target chain's vid once resolve has run.
type edge struct {
	v  *Verdict
	ri int32
	to int32
}

// graph is a table's chains with their outgoing jump/goto edges, gathered
// in one pass over the rules. Chains are scanned in order, so the edges of
// chain vid are one contiguous run of a flat slice:
// edges[edgeAt[vid]:edgeAt[vid+1]].
type graph struct {
	t      *Table
	edges  []edge
	edgeAt []int32
	// restricted counts, per chain, the rules holding expressions the
	// kernel allows only on some hooks or tables (checkHooks reads those
	// chains' rules again rather than keeping a list: Validate runs when
	// the heap is at its largest).
	restricted []int32
	anyRestr   bool
}

func newGraph(t *Table) *graph {
	n, rules := len(t.Chains), 0
	for i, c := range t.Chains {
		c.vid = int32(i)
		rules += len(c.Rules)
	}
	// Most rules jump or goto at most once: one allocation, not a series
	// of growing copies.
	g := &graph{t: t, edgeAt: make([]int32, n+1), restricted: make([]int32, n), edges: make([]edge, 0, rules)}
	for i, c := range t.Chains {
		for ri, r := range c.Rules {
			g.scan(r, int32(i), int32(ri))
		}
		g.edgeAt[i+1] = int32(len(g.edges))
	}
	return g
}

// out returns the edges leaving chain vid.
func (g *graph) out(vid int) []edge { return g.edges[g.edgeAt[vid]:g.edgeAt[vid+1]] }

func (g *graph) scan(r *Rule, vid, ri int32) {
	marked := false
	for _, e := range r.Exprs {
		if !marked && restricted(e) {
			g.restricted[vid]++
			g.anyRestr, marked = true, true
		}
		switch x := e.(type) {
		case *VerdictExpr:
			if x.V.Kind == VerdictJump || x.V.Kind == VerdictGoto {
				g.edges = append(g.edges, edge{v: &x.V, ri: ri})
			}
			continue
		case *FieldMatch, *CommentMatch, *NATStmt, *StatisticMatch:
			// The common expressions hold no verdict.
			continue
		}
		eachVerdict(g.t, e, func(v *Verdict) {
			if v.Kind == VerdictJump || v.Kind == VerdictGoto {
				g.edges = append(g.edges, edge{v: v, ri: ri})
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

// resolve points every jump and goto at its chain. A target a front-end
// already resolved (to a chain of this table still listed in it) is kept.
func (g *graph) resolve() []Problem {
	var probs []Problem
	for _, c := range g.t.Chains {
		for i := range g.out(int(c.vid)) {
			e := &g.edges[int(g.edgeAt[c.vid])+i]
			v := e.v
			if !g.holds(v.Target, v.Chain) {
				v.Target = g.t.Chain(v.Chain)
			}
			switch {
			case v.Target == nil:
				probs = append(probs, problem(g.t, c, c.Rules[e.ri], fmt.Sprintf("%s to chain %q, which does not exist", v.Kind, v.Chain)))
			case v.Target.Base != nil:
				probs = append(probs, problem(g.t, c, c.Rules[e.ri], fmt.Sprintf("%s to base chain %q is not allowed", v.Kind, v.Chain)))
			default:
				e.to = v.Target.vid
			}
		}
	}
	return probs
}

// holds reports whether c is the table's chain called name.
func (g *graph) holds(c *Chain, name string) bool {
	return c != nil && c.Name == name && c.Table == g.t && int(c.vid) < len(g.t.Chains) && g.t.Chains[c.vid] == c
}

func problem(t *Table, c *Chain, r *Rule, msg string) Problem {
	p := Problem{Table: t.String(), Chain: c.Name, Msg: msg}
	if r != nil {
		p.Rule, p.Pos = r.Index, r.Pos()
	} else {
		p.Pos = c.Pos()
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
	depth := make([]int32, len(t.Chains))
	var probs []Problem
	var visit func(vid int32) int32
	visit = func(vid int32) int32 {
		switch state[vid] {
		case onStack:
			return -1
		case done:
			return depth[vid]
		}
		state[vid] = onStack
		d := int32(0)
		for _, e := range g.out(int(vid)) {
			sub := visit(e.to)
			if sub < 0 {
				c := t.Chains[vid]
				probs = append(probs, problem(t, c, c.Rules[e.ri], fmt.Sprintf("%s to %q closes a loop", e.v.Kind, e.v.Chain)))
				state[vid] = done
				return 0
			}
			d = max(d, sub+1)
		}
		state[vid] = done
		depth[vid] = d
		return d
	}
	var warns []Warning
	for _, c := range t.Chains {
		if c.Base == nil {
			continue
		}
		if d := int(visit(c.vid)); d > MaxJumpDepth {
			msg := fmt.Sprintf("%s %s: chains nest %d deep, more than the kernel's %d", t, c.Name, d, MaxJumpDepth)
			if t.Backend == BackendLegacy {
				warns = append(warns, Warning{Pos: c.Pos(), Message: msg})
			} else {
				probs = append(probs, Problem{Table: t.String(), Chain: c.Name, Pos: c.Pos(), Msg: msg})
			}
		}
	}
	for _, c := range t.Chains {
		if state[c.vid] == unseen {
			visit(c.vid)
		}
	}
	return probs, warns
}

// reachableHooks returns, for every chain, the hooks from which it can be
// reached (the kernel's mark_source_chains / nft_chain_validate).
func (g *graph) reachableHooks() []uint8 {
	hooks := make([]uint8, len(g.t.Chains))
	var stack []int32
	for _, c := range g.t.Chains {
		if c.Base == nil {
			continue
		}
		mask := uint8(1) << c.Base.Hook
		if hooks[c.vid]&mask != 0 {
			continue
		}
		hooks[c.vid] |= mask
		stack = append(stack[:0], int32(c.vid))
		for len(stack) > 0 {
			vid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, e := range g.out(int(vid)) {
				if hooks[e.to]&mask == 0 {
					hooks[e.to] |= mask
					stack = append(stack, e.to)
				}
			}
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
		if mask == 0 || g.restricted[c.vid] == 0 {
			continue
		}
		natChain := chainIsNAT(t, c)
		for _, r := range c.Rules {
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
