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
		var p []Problem
		graphs[i], p = newGraph(t)
		probs = append(probs, p...)
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
			c.setIndex(buildIndex(c))
		}
		for _, s := range t.Sets {
			s.BuildIndex()
		}
	}
	return nil
}

// graph is a table's chains with the chains their jumps and gotos lead
// to, gathered in one pass over the rules, in chain and rule order: chain
// vid's edges are to[at[vid]:at[vid+1]]. Validate runs when the heap is at
// its largest, so an edge is only the target's vid (4 bytes; a
// 10k-Service kube-proxy dump has 220,000 jumps); the rule and verdict of
// an edge a problem names are found again in the chain (edgeRule).
type graph struct {
	t  *Table
	to []int32
	at []int32
	// restricted marks the chains with rules holding expressions the
	// kernel allows only on some hooks or tables (checkHooks reads those
	// chains' rules again rather than keeping a list).
	restricted []bool
	anyRestr   bool
}

// newGraph numbers the table's chains, points every jump and goto at its
// chain and gathers the edges. A target a front-end already resolved (to
// a chain of this table still listed in it) is kept. A jump to a missing
// or base chain is a problem (and no edge).
func newGraph(t *Table) (*graph, []Problem) {
	n, rules := len(t.Chains), 0
	for i, c := range t.Chains {
		c.at = int32(i)
		rules += len(c.Rules)
	}
	// Most rules jump or goto at most once: one allocation, not a series
	// of growing copies.
	g := &graph{t: t, at: make([]int32, n+1), restricted: make([]bool, n), to: make([]int32, 0, rules)}
	var probs []Problem
	for i, c := range t.Chains {
		for _, r := range c.Rules {
			g.scan(c, r, &probs)
		}
		g.at[i+1] = int32(len(g.to))
	}
	return g, probs
}

// out returns the vids chain vid jumps or goes to.
func (g *graph) out(vid int32) []int32 { return g.to[g.at[vid]:g.at[vid+1]] }

// scan counts the rule's restricted expressions and resolves its jumps.
func (g *graph) scan(c *Chain, r *Rule, probs *[]Problem) {
	marked := false
	for _, e := range r.Exprs {
		if !marked && restricted(e) {
			g.restricted[c.at] = true
			g.anyRestr, marked = true, true
		}
		switch x := e.(type) {
		case *VerdictExpr:
			g.resolve(c, r, &x.V, probs)
		case *FieldMatch, *CommentMatch, *NATStmt, *StatisticMatch:
			// The common expressions hold no verdict.
		default:
			eachVerdict(g.t, e, func(v *Verdict) { g.resolve(c, r, v, probs) })
		}
	}
}

// resolve points a jump or goto at its chain and records the edge.
func (g *graph) resolve(c *Chain, r *Rule, v *Verdict, probs *[]Problem) {
	if v.Kind != VerdictJump && v.Kind != VerdictGoto {
		return
	}
	if !g.holds(v.Target, v.Chain) {
		v.Target = g.t.Chain(v.Chain)
	}
	switch {
	case v.Target == nil:
		*probs = append(*probs, problem(g.t, c, r, fmt.Sprintf("%s to chain %q, which does not exist", v.Kind, v.Chain)))
	case v.Target.Base != nil:
		*probs = append(*probs, problem(g.t, c, r, fmt.Sprintf("%s to base chain %q is not allowed", v.Kind, v.Chain)))
	default:
		g.to = append(g.to, v.Target.at)
	}
}

// edgeRule finds the rule and verdict of chain vid's k-th edge.
func (g *graph) edgeRule(vid int32, k int) (*Rule, *Verdict) {
	var hit *Verdict
	n := 0
	for _, r := range g.t.Chains[vid].Rules {
		for _, e := range r.Exprs {
			eachVerdict(g.t, e, func(v *Verdict) {
				if hit == nil && (v.Kind == VerdictJump || v.Kind == VerdictGoto) && v.Target != nil && v.Target.Base == nil {
					if n == k {
						hit = v
					}
					n++
				}
			})
		}
		if hit != nil {
			return r, hit
		}
	}
	return nil, nil
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

// holds reports whether c is the table's chain called name.
func (g *graph) holds(c *Chain, name string) bool {
	return c != nil && c.Name == name && c.Table == g.t && int(c.at) < len(g.t.Chains) && g.t.Chains[c.at] == c
}

func problem(t *Table, c *Chain, r *Rule, msg string) Problem {
	p := Problem{Table: t.String(), Chain: c.Name, Msg: msg}
	if r != nil {
		p.Rule, p.Pos = r.Index(), r.Pos()
	} else {
		p.Pos = c.Pos()
	}
	return p
}

// checkDepth finds loops and measures nesting depth from every base chain.
func (g *graph) checkDepth() ([]Problem, []Warning) {
	d := depthWalk{g: g, state: make([]uint8, len(g.t.Chains)), depth: make([]int32, len(g.t.Chains))}
	t := g.t
	var warns []Warning
	for _, c := range t.Chains {
		if c.Base == nil {
			continue
		}
		if n := int(d.visit(c.at)); n > MaxJumpDepth {
			msg := fmt.Sprintf("%s %s: chains nest %d deep, more than the kernel's %d", t, c.Name, n, MaxJumpDepth)
			if t.Backend == BackendLegacy {
				warns = append(warns, Warning{Pos: c.Pos(), Message: msg})
			} else {
				d.probs = append(d.probs, Problem{Table: t.String(), Chain: c.Name, Pos: c.Pos(), Msg: msg})
			}
		}
	}
	for _, c := range t.Chains {
		if d.state[c.at] == unseen {
			d.visit(c.at)
		}
	}
	return d.probs, warns
}

// Chain states of a depth walk.
const (
	unseen uint8 = iota
	onStack
	done
)

// depthWalk is a depth-first walk along the jumps that records each
// chain's nesting depth (the longest jump path below it) and the jumps
// that close a loop. It keeps its own stack, one frame per chain on the
// current path: a kube-proxy dump nests only a few chains deep but a
// generated one may nest thousands.
type depthWalk struct {
	g      *graph
	state  []uint8
	depth  []int32
	probs  []Problem
	frames []depthFrame
}

// depthFrame is a chain being walked: next is the index in its edges of
// the one to follow next, max the depth found so far.
type depthFrame struct {
	vid  int32
	next int
	max  int32
}

// visit returns the nesting depth below vid (0 for a chain whose jump
// closes a loop, which is reported once).
func (d *depthWalk) visit(vid int32) int32 {
	if d.state[vid] != unseen {
		return max(d.depth[vid], 0)
	}
	d.enter(vid)
	for len(d.frames) > 0 {
		f := &d.frames[len(d.frames)-1]
		out := d.g.out(f.vid)
		if f.next == len(out) {
			d.edgeReturn(d.leave(f.max))
			continue
		}
		switch to := out[f.next]; d.state[to] {
		case onStack:
			d.loop(f)
		case done:
			d.follow(d.depth[to])
		default:
			d.enter(to)
		}
	}
	return d.depth[vid]
}

func (d *depthWalk) enter(vid int32) {
	d.state[vid] = onStack
	d.frames = append(d.frames, depthFrame{vid: vid})
}

// leave pops the top frame and records its chain's depth.
func (d *depthWalk) leave(depth int32) int32 {
	f := d.frames[len(d.frames)-1]
	d.frames = d.frames[:len(d.frames)-1]
	d.state[f.vid], d.depth[f.vid] = done, depth
	return depth
}

// edgeReturn hands a finished chain's depth to the frame that jumped to it.
func (d *depthWalk) edgeReturn(sub int32) {
	if len(d.frames) > 0 {
		d.follow(sub)
	}
}

// follow counts the depth below the top frame's current edge.
func (d *depthWalk) follow(sub int32) {
	f := &d.frames[len(d.frames)-1]
	f.next++
	f.max = max(f.max, sub+1)
}

// loop reports the top frame's current edge, which leads back onto the
// path, and ends that chain (depth 0).
func (d *depthWalk) loop(f *depthFrame) {
	t, c := d.g.t, d.g.t.Chains[f.vid]
	r, v := d.g.edgeRule(f.vid, f.next)
	d.probs = append(d.probs, problem(t, c, r, fmt.Sprintf("%s to %q closes a loop", v.Kind, v.Chain)))
	d.leave(0)
	d.edgeReturn(0)
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
		if hooks[c.at]&mask != 0 {
			continue
		}
		hooks[c.at] |= mask
		stack = append(stack[:0], int32(c.at))
		for len(stack) > 0 {
			vid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, to := range g.out(vid) {
				if hooks[to]&mask == 0 {
					hooks[to] |= mask
					stack = append(stack, to)
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
		mask := hooks[c.at]
		if mask == 0 || !g.restricted[c.at] {
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
