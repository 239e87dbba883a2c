package trace

import (
	"fmt"
	"net/netip"
	"sort"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// frame is one chain on the traversal stack.
type frame struct {
	chain *nf.Chain
	// next is the 0-based index of the next rule to consider.
	next int
	// cands are the rules that may match (indexed chains), valid for key.
	cands []int32
	key   [18]byte
	keyed bool
}

// walker is one possible history of the packet. Forks copy it.
type walker struct {
	sim         *Simulator
	pkt         nf.Packet
	prob        float64
	assumptions []string
	// path is the walker's rules and policies so far, newest first, shared
	// with the walkers it forked from (a persistent list: forking copies
	// nothing).
	path   *pathNode
	steps  int
	hook   nf.Hook
	entry  int
	natIdx int
	inNAT  bool
	stack  []frame
	// base is the base chain being run: its policy applies when the
	// traversal returns past the bottom of the stack, even if a goto
	// replaced the bottom frame (ipt_do_table's underflow).
	base *nf.Chain
	// resume: evaluate the current rule from expression resumeExpr, with
	// override in place of that expression (a fork's branch).
	resumeExpr int
	override   nf.Expr
	local      bool
	// autoOut: the output interface came from the routing table, so a
	// DNAT on OUTPUT re-routes (ip_route_me_harder).
	autoOut bool
	looped  bool
	// done: the walker finished; its outcome is the last of tr.outcomes.
	done bool
	// obs is Input.Observe (nil: nobody listens).
	obs Observer
	// tr is the trace this walker belongs to.
	tr *tracer
	// ctx is what the rule being evaluated sees (kept here so that
	// evaluating a rule allocates nothing).
	ctx nf.Ctx
}

// tracer is what the walkers of one Trace call share: the outcomes found
// so far, finished walkers to reuse, and a chunk of path nodes. A fork's
// branches are made one at a time, when taken up, from the forking walker,
// so n branches that finish without forking again cost two walkers, not
// n+1.
type tracer struct {
	outcomes []Outcome
	free     []*walker
	nodes    []pathNode
}

// copyOf returns a walker in w's state, reusing a finished walker's
// buffers when there is one.
func (t *tracer) copyOf(w *walker) *walker {
	var c *walker
	if n := len(t.free); n > 0 {
		c, t.free = t.free[n-1], t.free[:n-1]
	} else {
		c = &walker{}
	}
	stack, as := c.stack[:0], c.assumptions[:0]
	if cap(stack) < minStack {
		stack = make([]frame, 0, max(minStack, len(w.stack)))
	}
	*c = *w
	c.stack = append(stack, w.stack...)
	c.assumptions = append(as, w.assumptions...)
	return c
}

// recycle keeps a walker nothing refers to any more for copyOf.
func (t *tracer) recycle(w *walker) { t.free = append(t.free, w) }

// minStack is the chain stack a walker starts with room for; pathChunk
// how many path nodes a tracer allocates at once (a quarter of it first:
// most packets do not fork).
const (
	minStack  = 4
	pathChunk = 64
)

func (t *tracer) node() *pathNode {
	if len(t.nodes) == cap(t.nodes) {
		n := pathChunk
		if t.nodes == nil {
			n = pathChunk / 4
		}
		t.nodes = make([]pathNode, 0, n)
	}
	t.nodes = t.nodes[:len(t.nodes)+1]
	return &t.nodes[len(t.nodes)-1]
}

func (w *walker) entries() []entry {
	return w.sim.plan.hooks[famIndex(w.pkt.Family)][w.hook]
}

// run advances the walker until it finishes (w.done set) or forks (the
// returned branches replace it; w is then their template and must not
// run again).
func (w *walker) run() []pending {
	for !w.done {
		if len(w.stack) == 0 {
			w.enterNext()
			continue
		}
		if forks := w.step(); forks != nil {
			return forks
		}
	}
	return nil
}

// enterNext starts the next function registered on the hook.
func (w *walker) enterNext() {
	es := w.entries()
	if w.entry >= len(es) {
		w.hookDone()
		return
	}
	e := es[w.entry]
	switch e.kind {
	case entryConntrack:
		attachConntrack(&w.pkt, w.sim.state)
		w.entry++
	case entryNAT:
		if !w.natApplies() {
			w.entry++
			return
		}
		if w.natIdx >= len(e.nat) {
			w.nullBinding()
			w.entry, w.natIdx = w.entry+1, 0
			return
		}
		w.inNAT = true
		w.push(e.nat[w.natIdx])
	default:
		w.inNAT = false
		w.push(e.chain)
	}
}

// natApplies: nf_nat_inet_fn consults the nat chains only for a new,
// tracked flow whose NAT of this direction is not yet decided.
func (w *walker) natApplies() bool {
	ct := &w.pkt.CT
	if !ct.Attached || ct.Notrack || ct.State != nf.CTNew {
		return false
	}
	if dstManip(w.hook) {
		return !ct.DNATInit
	}
	return !ct.SNATInit
}

func dstManip(h nf.Hook) bool { return h == nf.HookPrerouting || h == nf.HookOutput }

// nullBinding: no nat chain set up a mapping; the kernel records a null
// binding so later packets skip the nat chains (nf_nat_alloc_null_binding).
func (w *walker) nullBinding() {
	if dstManip(w.hook) {
		w.pkt.CT.DNATInit = true
	} else {
		w.pkt.CT.SNATInit = true
	}
}

func (w *walker) push(c *nf.Chain) {
	if w.obs != nil {
		w.obs.Chain(c)
	}
	if len(w.stack) == 0 {
		w.base = c
	}
	w.stack = append(w.stack, frame{chain: c})
}

// candidate returns the next rule of the top frame to evaluate, or -1.
func (w *walker) candidate(f *frame) int {
	ix := f.chain.Index()
	if ix == nil {
		if f.next < len(f.chain.Rules) {
			return f.next
		}
		return -1
	}
	key := indexKey(ix, &w.pkt)
	if !f.keyed || key != f.key {
		f.cands = ix.Candidates(&w.pkt, nil)
		f.key, f.keyed = key, true
	}
	i := sort.Search(len(f.cands), func(i int) bool { return int(f.cands[i]) >= f.next })
	if i < len(f.cands) {
		return int(f.cands[i])
	}
	return -1
}

func indexKey(ix *nf.ChainIndex, p *nf.Packet) [18]byte {
	var k [18]byte
	a := p.Dst.As16()
	copy(k[:16], a[:])
	k[16], k[17] = byte(p.DPort>>8), byte(p.DPort)
	if ix.Field == nf.FieldDst {
		k[16], k[17] = 0, 0
	}
	return k
}

// step evaluates one rule of the top frame (or ends the chain).
func (w *walker) step() []pending {
	f := &w.stack[len(w.stack)-1]
	ri := w.candidate(f)
	if ri < 0 {
		w.chainEnd()
		return nil
	}
	r := f.chain.Rules[ri]
	if w.obs != nil {
		w.obs.Rule(r)
	}
	w.ctx = nf.Ctx{Pkt: &w.pkt, Hook: w.hook, Table: f.chain.Table, Env: w.sim.env}
	for j := w.resumeExpr; j < len(r.Exprs); j++ {
		e := r.Exprs[j]
		if j == w.resumeExpr && w.override != nil {
			e = w.override
		}
		o := e.Eval(&w.ctx)
		if o.Assumption != "" {
			w.assume(o.Assumption)
		}
		switch o.Kind {
		case nf.OutNoMatch:
			w.resumeExpr, w.override = 0, nil
			f.next = ri + 1
			return nil
		case nf.OutFork:
			return w.fork(j, o.Branches)
		case nf.OutVerdict:
			w.resumeExpr, w.override = 0, nil
			w.record(r, o.Verdict)
			f.next = ri + 1
			w.apply(o.Verdict)
			return nil
		}
	}
	w.resumeExpr, w.override = 0, nil
	w.record(r, nf.Verdict{})
	f.next = ri + 1
	return nil
}

// pending is a branch of a fork not walked yet: the forking walker's
// state (from, which no longer runs) with expression j replaced by the
// branch's. The walkers are made when the branch is taken up.
type pending struct {
	from *walker
	j    int
	b    nf.Branch
	// last: no other pending branch uses from, which can become this
	// branch's walker without a copy.
	last bool
}

func (w *walker) fork(j int, bs []nf.Branch) []pending {
	out := make([]pending, 0, len(bs))
	for _, b := range bs {
		prob := w.prob
		if b.Assumption == "" || b.Prob > 0 {
			prob *= b.Prob
		}
		if prob > 0 || b.Assumption != "" {
			out = append(out, pending{from: w, j: j, b: b})
		}
	}
	if len(out) > 0 {
		// Branches are taken up last first: the first is the last to use w.
		out[0].last = true
	} else {
		w.tr.recycle(w)
	}
	return out
}

// walker returns the walker of a pending branch.
func (p pending) walker() *walker {
	c := p.from
	if !p.last {
		c = p.from.tr.copyOf(p.from)
	}
	b := p.b
	c.resumeExpr, c.override = p.j, b.Then
	switch {
	case b.Assumption == "":
		c.prob *= b.Prob
	case b.Prob > 0:
		c.prob *= b.Prob
		c.assume(b.Assumption)
	default:
		c.assume(b.Assumption)
	}
	return c
}

func (w *walker) assume(a string) {
	for _, x := range w.assumptions {
		if x == a {
			return
		}
	}
	w.assumptions = append(w.assumptions, a)
}

// pathRef is a compact path entry: a rule that matched (with the verdict
// it produced) or a chain whose policy applied. Steps are built from them
// only for finished outcomes, so forks copy little.
type pathRef struct {
	rule  *nf.Rule
	chain *nf.Chain
	// vchain is the jump or goto target (resolved by Validate).
	vchain  *nf.Chain
	verdict nf.VerdictKind
	hook    nf.Hook
}

// pathNode is one entry of a walker's path and a link to the ones before.
type pathNode struct {
	ref  pathRef
	prev *pathNode
}

func (w *walker) addPath(ref pathRef) {
	n := w.tr.node()
	*n = pathNode{ref: ref, prev: w.path}
	w.path = n
	w.steps++
}

// record adds a matched rule to the path.
func (w *walker) record(r *nf.Rule, v nf.Verdict) {
	w.addPath(pathRef{rule: r, verdict: v.Kind, vchain: v.Target, hook: w.hook})
}

// step turns a path entry into its reported form.
func (p pathRef) step() Step {
	if p.rule == nil {
		c, t := p.chain, p.chain.Table
		pos := c.Pos()
		return Step{Family: string(t.Family), Table: t.Name, Chain: c.Name, Policy: true, Target: c.Base.Policy.String(),
			Line: pos.Line, File: pos.File, Hook: p.hook.String(), Backend: string(t.Backend)}
	}
	r, t := p.rule, p.rule.Chain.Table
	target := r.Target()
	if target == "" && p.verdict != nf.VerdictNone {
		target = p.verdict.String()
		if p.verdict == nf.VerdictJump || p.verdict == nf.VerdictGoto {
			target = p.vchain.Name
		}
	}
	pos := r.Pos()
	return Step{Family: string(t.Family), Table: t.Name, Chain: r.Chain.Name, Rule: r.Index(),
		Target: target, Line: pos.Line, File: pos.File, Hook: p.hook.String(), Backend: string(t.Backend),
		Handle: r.Handle(), Text: r.Text}
}

// apply carries out a rule's verdict.
func (w *walker) apply(v nf.Verdict) {
	switch v.Kind {
	case nf.VerdictJump:
		w.push(v.Target)
	case nf.VerdictGoto:
		if w.obs != nil {
			w.obs.Chain(v.Target)
		}
		w.stack[len(w.stack)-1] = frame{chain: v.Target}
	case nf.VerdictReturn:
		w.chainEnd()
	case nf.VerdictNone, nf.VerdictContinue:
	default:
		w.stack = w.stack[:0]
		w.baseVerdict(v)
	}
}

// chainEnd returns from the top chain (RETURN or falling off its end); at
// a base chain the policy applies.
func (w *walker) chainEnd() {
	if len(w.stack) > 1 {
		w.stack = w.stack[:len(w.stack)-1]
		return
	}
	c := w.base
	w.stack = w.stack[:0]
	w.addPath(pathRef{chain: c, hook: w.hook})
	w.baseVerdict(nf.Verdict{Kind: c.Base.Policy})
}

// baseVerdict handles the verdict a base chain ended with: accept moves to
// the next function on the hook; drop, reject, queue and stolen end the
// packet.
func (w *walker) baseVerdict(v nf.Verdict) {
	if v.Kind != nf.VerdictAccept {
		w.finish(v, DeliveredNone)
		return
	}
	if !w.inNAT {
		w.entry++
		return
	}
	if w.natDecided() {
		w.entry, w.natIdx, w.inNAT = w.entry+1, 0, false
		return
	}
	w.natIdx++
	w.inNAT = false
}

func (w *walker) natDecided() bool {
	if dstManip(w.hook) {
		return w.pkt.CT.DNATInit
	}
	return w.pkt.CT.SNATInit
}

// hookDone moves the packet on once every function of the hook accepted.
func (w *walker) hookDone() {
	w.entry, w.natIdx = 0, 0
	switch w.hook {
	case nf.HookPrerouting:
		w.route()
	case nf.HookInput:
		w.finish(nf.Verdict{Kind: nf.VerdictAccept}, DeliveredLocal)
	case nf.HookForward:
		w.hook = nf.HookPostrouting
	case nf.HookOutput:
		if w.pkt.CT.DNAT && w.autoOut {
			w.pkt.OutIface = ""
			if !w.routeOut() {
				return
			}
		}
		w.hook = nf.HookPostrouting
	case nf.HookPostrouting:
		w.leave()
	default:
		w.finish(nf.Verdict{Kind: nf.VerdictAccept}, DeliveredNone)
	}
}

// route is the input routing decision, taken after PREROUTING with the
// destination DNAT may have rewritten.
func (w *walker) route() {
	p := &w.pkt
	env := w.sim.env
	if w.martian() {
		return
	}
	if w.looped || env.IsLocal(p.Dst) || env.AddrType(p.Dst)&(nf.AddrTypeBroadcast|nf.AddrTypeMulticast) != 0 {
		if w.localSource(false) {
			return
		}
		w.hook = nf.HookInput
		return
	}
	if env != nil && env.NoForwarding {
		w.assume("the node does not forward (ip_forward=0)")
		w.finish(nf.Verdict{Kind: nf.VerdictDrop}, DeliveredNone)
		return
	}
	if w.localSource(true) {
		return
	}
	if p.TTL <= 1 {
		// ip_forward drops it before the FORWARD hook and sends ICMP time
		// exceeded.
		w.assume(fmt.Sprintf("TTL %d: dropped by ip_forward before FORWARD (ICMP time exceeded)", p.TTL))
		w.finish(nf.Verdict{Kind: nf.VerdictDrop}, DeliveredNone)
		return
	}
	if !w.routeOut() {
		return
	}
	p.TTL--
	w.hook = nf.HookForward
}

// nextIface is the interface a forwarded packet will leave by, as far as
// it is known ("" when not), and whether a route takes it at all: with no
// route (or an unreachable one) the kernel's input lookup fails before
// the source is validated, and routeOut drops the packet.
func (w *walker) nextIface() (string, bool) {
	p, env := &w.pkt, w.sim.env
	if p.OutIface != "" {
		return p.OutIface, true
	}
	r, ok := env.Lookup(p.Dst)
	if ok && r.Unreachable || !ok && env != nil && env.RoutesComplete {
		return "", false
	}
	return r.Iface, true
}

// martian is ip_route_input_slow's (ip_route_input_mc's for a multicast
// destination) check of the addresses no interface but lo may bring in,
// done after PREROUTING: a multicast or limited-broadcast source; a
// 0.0.0.0 source or destination (ipv4_is_zeronet, only 0.0.0.0 itself
// since Linux 5.3; a zero source may still reach the limited broadcast, a
// link-local group or IGMP); a 127.0.0.0/8 destination, or
// else source, unless route_localnet is on (see nf.Env.RouteLocalnet). It
// reports whether it dropped the packet. Looped-back local packets keep
// the route they were sent with and are not checked. What passes meets
// localSource once the destination's route is known.
func (w *walker) martian() bool {
	p := &w.pkt
	if p.Family != nf.IPv4 || w.looped || p.InIface == "lo" {
		return false
	}
	src, dst := p.Src.As4(), p.Dst.As4()
	switch {
	case p.Src.IsMulticast() || src == limitedBroadcast:
		return w.dropMartian("source", p.Src, "")
	case dst == limitedBroadcast || p.Src.IsUnspecified() && p.Dst.IsUnspecified():
		return false
	case p.Src.IsUnspecified() && p.Dst.IsMulticast():
		if p.Dst.IsLinkLocalMulticast() || p.Proto == nf.ProtoIGMP {
			return false
		}
		return w.dropMartian("source", p.Src, "")
	case p.Src.IsUnspecified():
		return w.dropMartian("source", p.Src, "")
	case p.Dst.IsUnspecified():
		return w.dropMartian("destination", p.Dst, "")
	case dst[0] == 127:
		return w.localnetMartian("destination", p.Dst)
	case src[0] == 127:
		return w.localnetMartian("source", p.Src)
	}
	return false
}

var limitedBroadcast = [4]byte{255, 255, 255, 255}

// localnetMartian drops a loopback address from a non-loopback interface
// unless route_localnet lets it through; unknown is taken as 0, the
// kernel default, and said so.
func (w *walker) localnetMartian(which string, a netip.Addr) bool {
	dev := w.pkt.InIface
	on, known := w.sim.env.LocalnetRouted(dev)
	if on {
		return false
	}
	why := fmt.Sprintf("route_localnet=0 on %s and all", dev)
	if !known {
		why = fmt.Sprintf("route_localnet of %s unknown: taken as 0, the kernel default", dev)
	}
	return w.dropMartian(which, a, why)
}

// localSource is fib_validate_source, which ip_route_input_slow (and
// ip_mc_validate_source) runs on an IPv4 packet from a non-loopback
// interface once the destination's route is known: for a local,
// broadcast or multicast destination, and for a forwarded one. A source
// that is an address of the node (of one of its interfaces, lo's
// 127.0.0.1 included) is a martian unless accept_local is 1 on the input
// device or all (unknown is taken as 0, the kernel default, and said so).
// Another 127.0.0.0/8 address, which route_localnet let through, has a
// local route too: it passes the fast path (rp_filter=0 and no ip rules
// or added local routes, stated) but not the full check, which
// reverse-path filtering (rp_filter 1 or 2 on the device or all) or a
// packet forwarded back out its input interface while send_redirects is
// on (the default) gets. With accept_local=1 a source of another
// interface than the input one passes unless reverse-path filtering is
// strict. Any other source meets reversePath. It reports whether it
// dropped the packet.
func (w *walker) localSource(forwarded bool) bool {
	p, env := &w.pkt, w.sim.env
	if p.Family != nf.IPv4 || w.looped || p.InIface == "lo" {
		return false
	}
	dev, src := p.InIface, p.Src
	// The node's local addresses are its interfaces' (see nf.Env.Local);
	// lo always holds 127.0.0.1.
	ifaddr := src == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || env != nil && env.Local[src]
	loopback := src.As4()[0] == 127
	oif := ""
	if forwarded {
		var routed bool
		if oif, routed = w.nextIface(); !routed {
			return false // no route: dropped before the source is validated
		}
	}
	if !ifaddr && !loopback {
		return w.reversePath(dev, src)
	}
	rpf, rpfKnown := env.RPFilterOf(dev)
	on, known := env.LocalAccepted(dev)
	switch {
	case on:
		switch {
		case addrOf(env, dev, src):
		case rpfKnown && rpf == 1:
			return w.dropMartian("source", src, fmt.Sprintf("rp_filter 1 (strict; the maximum of %s's and all's): with accept_local=1 fib_validate_source still refuses the local source %s, which is not an address of %s", dev, src, dev))
		case !rpfKnown:
			w.assume(fmt.Sprintf("rp_filter of %s and all not strict (their maximum is not 1): with accept_local=1 strict reverse-path filtering still refuses the local source %s, which is not an address of %s", dev, src, dev))
		}
		return false
	case ifaddr && known:
		return w.dropMartian("source", src, fmt.Sprintf("accept_local=0 on %s and all: fib_validate_source refuses a source that is an address of the node", dev))
	case ifaddr:
		return w.dropMartian("source", src, fmt.Sprintf("accept_local of %s unknown: taken as 0, the kernel default (fib_validate_source refuses a source that is an address of the node)", dev))
	case oif != "" && oif == dev:
		return w.dropMartian("source", src, fmt.Sprintf("send_redirects=1 on %s or all (the kernel default): forwarded back out %s, the packet gets fib_validate_source's full check, which refuses a source with a local route", dev, dev))
	case rpfKnown && rpf != 0:
		acc := fmt.Sprintf("accept_local=0 on %s and all", dev)
		if !known {
			acc = fmt.Sprintf("accept_local of %s unknown, taken as 0 (the kernel default)", dev)
		}
		return w.dropMartian("source", src, fmt.Sprintf("rp_filter %d (the maximum of %s's and all's) and %s: fib_validate_source's full check refuses the 127.0.0.0/8 source, whose route is local", rpf, dev, acc))
	case rpfKnown:
		w.assume("no ip rules or added local routes: fib_validate_source's full check would refuse the 127.0.0.0/8 source")
		return false
	}
	w.assume(fmt.Sprintf("rp_filter=0 on %s and all, no ip rules or added local routes: fib_validate_source's full check would refuse the 127.0.0.0/8 source", dev))
	return false
}

// reversePath is fib_validate_source's reverse-path filter
// (__fib_validate_source) for an IPv4 source from the wire that is no
// address of the node, with rp_filter (IN_DEV_RPFILTER: the maximum of
// the input device's and all's) 1 (strict) or 2 (loose). The kernel
// looks the source up in the routing table as a destination: a failed
// lookup (no route; an unreachable, blackhole or prohibit route) or a
// route that is not unicast (a broadcast address of the node) refuses it
// in either mode; under strict filtering the route must also leave by the
// input device (any next hop of a multipath route). The default route
// counts like any other. Local and forwarded destinations are checked
// alike. A refusal is a martian source, dropped after PREROUTING. With
// rp_filter unknown nothing is dropped, but an assumption says so when
// the known routes would have the source refused; with routes that do
// not cover the source and are not complete, an assumption states that
// it is taken as passing. It reports whether it dropped the packet.
func (w *walker) reversePath(dev string, src netip.Addr) bool {
	env := w.sim.env
	if dev == "" || src.IsUnspecified() {
		return false // brd_input skips 0.0.0.0; an unknown device has no sysctls to read
	}
	rpf, known := env.RPFilterOf(dev)
	if !known || rpf == 0 {
		// Unknown is taken as 0 unsaid: exposure's source classes do not
		// follow routes, so a per-source assumption would split them.
		return false
	}
	mode := fmt.Sprintf("rp_filter %d (the maximum of %s's and all's)", rpf, dev)
	r, ok := env.Lookup(src)
	var fail string
	switch {
	case env.AddrType(src)&nf.AddrTypeBroadcast != 0:
		fail = fmt.Sprintf("%s is a broadcast address of the node, not a unicast route", src)
	case ok && r.Unreachable:
		fail = fmt.Sprintf("the route back to %s (%s) is unreachable", src, r.Prefix)
	case !ok && env != nil && env.RoutesComplete:
		fail = fmt.Sprintf("no route leads back to %s", src)
	case !ok || r.Iface == "":
		w.assume(fmt.Sprintf("%s: the source %s taken as routed back via %s (the node's routes do not tell)", mode, src, dev))
		return false
	case env.RoutesVia(src, dev):
		return false
	case rpf == 1:
		return w.dropMartian("source", src, fmt.Sprintf("rp_filter 1 (strict; the maximum of %s's and all's): fib_validate_source refuses the source, whose route back leaves by %s, not %s", dev, r.Iface, dev))
	default:
		return false // loose: any route back will do
	}
	return w.dropMartian("source", src, fmt.Sprintf("%s: reverse-path filtering (fib_validate_source) refuses the source: %s", mode, fail))
}

// addrOf reports whether a is an address of interface dev as env knows it
// (127.0.0.0/8 is lo's).
func addrOf(env *nf.Env, dev string, a netip.Addr) bool {
	if a.Is4() && a.As4()[0] == 127 {
		return dev == "lo"
	}
	ifc, ok := env.Iface(dev)
	if !ok {
		return false
	}
	for _, p := range ifc.Addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// dropMartian ends the packet as the kernel does a martian: dropped
// (counted in-martian), after PREROUTING has run.
func (w *walker) dropMartian(which string, a netip.Addr, why string) bool {
	if why != "" {
		w.assume(why)
	}
	w.assume(fmt.Sprintf("martian %s %s from %s: the kernel drops it after PREROUTING (ip_route_input)", which, a, w.pkt.InIface))
	w.finish(nf.Verdict{Kind: nf.VerdictDrop}, DeliveredNone)
	return true
}

// received is ip6_rcv_core's check, before PREROUTING, of what a
// non-loopback interface may bring in: no ::1 source or destination, no
// multicast source, no multicast destination of scope 0 (reserved) or 1
// (interface-local). It reports false when the packet was dropped there,
// with no rule counting it.
func (w *walker) received() bool {
	p := &w.pkt
	if p.Family != nf.IPv6 || p.InIface == "lo" {
		return true
	}
	why := ""
	switch d := p.Dst.As16(); {
	case p.Src == netip.IPv6Loopback() || p.Dst == netip.IPv6Loopback():
		why = "loopback address ::1"
	case p.Src.IsMulticast():
		why = "multicast source"
	case p.Dst.IsMulticast() && d[1]&0x0f <= 1:
		why = "multicast destination of scope 0 or 1"
	default:
		return true
	}
	w.assume(fmt.Sprintf("%s from %s: the kernel drops it on receipt, before PREROUTING (ip6_rcv_core)", why, p.InIface))
	w.finish(nf.Verdict{Kind: nf.VerdictDrop}, DeliveredNone)
	return false
}

// routeOut picks the output interface from the routing table when the
// input did not name one; false when the packet has no route.
func (w *walker) routeOut() bool {
	p := &w.pkt
	if p.OutIface != "" {
		return true
	}
	env := w.sim.env
	if w.local && env.IsLocal(p.Dst) {
		p.OutIface, w.autoOut = "lo", true
		return true
	}
	if env == nil || len(env.Routes) == 0 {
		w.assume("output interface not given (--out-iface) and no routes known: -o tests see no interface")
		return true
	}
	r, ok := env.Lookup(p.Dst)
	if !ok && !env.RoutesComplete {
		w.assume(fmt.Sprintf("no known route to %s: -o tests see no interface", p.Dst))
		return true
	}
	if !ok || r.Unreachable {
		w.assume(fmt.Sprintf("no route to %s: the kernel drops the packet", p.Dst))
		w.finish(nf.Verdict{Kind: nf.VerdictDrop}, DeliveredNone)
		return false
	}
	p.OutIface, w.autoOut = r.Iface, true
	return true
}

// leave is what follows POSTROUTING: the packet goes out, or a locally
// generated packet to a local address loops back through lo.
func (w *walker) leave() {
	if w.local && !w.looped && w.sim.env.IsLocal(w.pkt.Dst) {
		w.looped = true
		w.pkt.InIface, w.pkt.OutIface = "lo", ""
		w.hook = nf.HookPrerouting
		return
	}
	d := DeliveredForward
	if w.local {
		d = DeliveredOut
	}
	w.finish(nf.Verdict{Kind: nf.VerdictAccept}, d)
}

func (w *walker) finish(v nf.Verdict, delivered string) {
	p := &w.pkt
	// The walker's buffers are reused once it is done: the outcome gets
	// its own assumptions.
	var as []string
	if len(w.assumptions) > 0 {
		as = append(as, w.assumptions...)
	}
	w.tr.outcomes = append(w.tr.outcomes, Outcome{Probability: w.prob, Verdict: v.Kind.String(), Delivered: delivered,
		Final:    Endpoint{Dst: p.Dst.String(), DPort: p.DPort, Src: p.Src.String(), SPort: p.SPort},
		OutIface: p.OutIface, Path: make([]Step, w.steps), Assumptions: as, Packet: *p})
	o := &w.tr.outcomes[len(w.tr.outcomes)-1]
	i := w.steps
	for n := w.path; n != nil; n = n.prev {
		i--
		o.Path[i] = n.ref.step()
	}
	if v.Kind == nf.VerdictReject {
		o.RejectWith = v.RejectWith.String()
	}
	if v.Kind == nf.VerdictQueue {
		o.Assumptions = append(o.Assumptions, fmt.Sprintf("queued to userspace (queue %d): its fate depends on the program reading it", v.QueueNum))
	}
	if o.Assumptions == nil {
		o.Assumptions = []string{}
	}
	w.done = true
}
