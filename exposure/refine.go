package exposure

import (
	"net/netip"
	"slices"
	"sync"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// unit is one independent refinement: an interface, protocol and local
// address, over a source range and every port.
type unit struct {
	iface string
	proto uint8
	addr  netip.Addr
	src   addrRange
	// fixed: the source is the one client of --from, martian or not.
	fixed bool
}

// box is a set of probes: the sources of src × the destination ports of
// ports, each a sorted list of disjoint intervals. A box holds the probes
// no rule evaluated so far tells apart, however far apart they lie.
type box struct {
	src   []addrRange
	ports []portRange
}

// part is a final box and its answer (nil for martian sources). same
// marks the local addresses (indexes of analyzer.locals) whose probes of
// the box get the same answer: no evaluated rule told them apart.
type part struct {
	box
	ans  *answer
	same []bool
}

// cell is one interval of sources × one interval of ports of a part.
type cell struct {
	src      addrRange
	plo, phi int32
	ans      *answer
}

// cells lists the intervals of the parts.
func cells(ps []part) []cell {
	var out []cell
	for _, p := range ps {
		for _, pr := range p.ports {
			for _, s := range p.src {
				out = append(out, cell{src: s, plo: pr.lo, phi: pr.hi, ans: p.ans})
			}
		}
	}
	return out
}

// observer collects the port and source sets of the rules a trace
// evaluates that may split the box.
type observer struct {
	a     *analyzer
	cc    chainCache
	proto uint8
	// pspan and sspan are the extent of the box's ports and sources.
	pspan portRange
	sspan addrRange
	ports []portRange
	srcs  []addrRange
	atom  bool
	// sig accumulates the destination signatures of what was evaluated;
	// dstAny records a dependence on the destination ranges do not show.
	sig    []uint64
	dstAny bool
	// recent are the chains of the latest calls, newest first: rules come
	// chain by chain, and a walk returns to the chains it jumped from.
	recent [4]recentChain
}

type recentChain struct {
	ch *nf.Chain
	ci *chainInfo
}

func newObserver(a *analyzer, cc chainCache, proto uint8, b box) *observer {
	return &observer{a: a, cc: cc, proto: proto, pspan: portRange{b.ports[0].lo, b.ports[len(b.ports)-1].hi},
		sspan: addrRange{b.src[0].lo, b.src[len(b.src)-1].hi}}
}

// chainInfo returns the cuts of ch, from the recent chains when it is one.
func (o *observer) chainInfo(ch *nf.Chain) *chainInfo {
	if o.recent[0].ch == ch {
		return o.recent[0].ci
	}
	k := len(o.recent) - 1
	for i := 1; i < len(o.recent); i++ {
		if o.recent[i].ch == ch {
			k = i
			break
		}
	}
	e := o.recent[k]
	if e.ch != ch {
		e = recentChain{ch, o.a.chainIn(o.cc, ch)}
	}
	copy(o.recent[1:k+1], o.recent[:k])
	o.recent[0] = e
	return e.ci
}

// mix adds a signature.
func (o *observer) mix(sig []uint64) {
	if sig == nil {
		return
	}
	if o.sig == nil {
		o.sig = make([]uint64, len(sig))
	}
	for i, h := range sig {
		o.sig[i] = (o.sig[i]^h)*1099511628211 + 1
	}
}

// Chain implements trace.Observer.
func (o *observer) Chain(c *nf.Chain) {
	if c.Index() == nil {
		// Only an indexed chain has cuts of its own (chainPortCuts, dstSig).
		return
	}
	ci := o.chainInfo(c)
	if ci.index != nil {
		o.atom = o.atom || ci.index.atom
		o.ports = portAxis.splitting(ci.index.any, o.pspan, o.ports)
		o.ports = portAxis.splitting(ci.index.by[o.proto], o.pspan, o.ports)
	}
	o.mix(ci.sig)
}

// Rule implements trace.Observer.
func (o *observer) Rule(r *nf.Rule) {
	c, sig := o.a.ruleCutsOf(o.chainInfo(r.Chain), r)
	if c == nil || c.never(o.proto) {
		return
	}
	o.mix(sig)
	o.dstAny = o.dstAny || c.dstAny
	o.atom = o.atom || c.atom
	for _, p := range c.pranges {
		if portAxis.splits(p, o.pspan) {
			o.ports = append(o.ports, p)
		}
	}
	for _, s := range c.sranges {
		if addrAxis.splits(s, o.sspan) {
			o.srcs = append(o.srcs, s)
		}
	}
}

// refine partitions one unit into parts whose probes all get the same
// answer. Parts of prev (the same unit for another local address) that
// hold for this address too are taken over; the others are refined, by
// one worker per chain cache.
func (a *analyzer) refine(u unit, prev []part, caches []chainCache) []part {
	q := &boxQueue{boxes: a.initialBoxes(u)}
	if prev != nil {
		q.boxes = q.boxes[:0]
		me := slices.Index(a.locals, u.addr)
		for _, c := range prev {
			if me >= 0 && c.same != nil && c.same[me] && !a.listened(u, c.box) {
				q.out = append(q.out, c)
			} else {
				q.boxes = append(q.boxes, c.box)
			}
		}
	}
	q.wake = sync.NewCond(&q.mu)
	var wg sync.WaitGroup
	for _, cc := range caches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work(func(b box, out []part, more []box) ([]part, []box) { return a.refineBox(u, b, cc, out, more) })
		}()
	}
	wg.Wait()
	return q.out
}

// boxQueue holds the boxes left to trace and the parts found, shared by
// the workers of one unit.
type boxQueue struct {
	mu    sync.Mutex
	wake  *sync.Cond
	boxes []box
	out   []part
	// busy counts the workers tracing a box (which may queue more).
	busy int
}

// work takes boxes until none is left and no other worker can add one.
func (q *boxQueue) work(step func(b box, out []part, more []box) ([]part, []box)) {
	var out []part
	var more []box
	q.mu.Lock()
	for {
		for len(q.boxes) == 0 && q.busy > 0 {
			q.wake.Wait()
		}
		if len(q.boxes) == 0 {
			q.wake.Broadcast()
			q.mu.Unlock()
			return
		}
		b := q.boxes[len(q.boxes)-1]
		q.boxes = q.boxes[:len(q.boxes)-1]
		q.busy++
		q.mu.Unlock()
		out, more = step(b, out[:0], more[:0])
		q.mu.Lock()
		q.busy--
		q.out = append(q.out, out...)
		q.boxes = append(q.boxes, more...)
		if len(more) > 0 || q.busy == 0 {
			q.wake.Broadcast()
		}
	}
}

// refineBox traces the representative of b: the part of b that the
// evaluated rules do not tell apart from it is answered (appended to out),
// the rest is returned as boxes to trace (appended to more).
func (a *analyzer) refineBox(u unit, b box, cc chainCache, out []part, more []box) ([]part, []box) {
	rep, ok := representative(b.src, a.env.IsLocal)
	if u.fixed {
		rep, ok = b.src[0].lo, true
	}
	if !ok {
		return append(out, part{box: b, same: a.allSame()}), more
	}
	port := b.ports[0].lo
	o := newObserver(a, cc, u.proto, b)
	ans := a.eval(u, rep, int(port), o)
	same := a.sameAs(u, o, ans)
	if len(o.ports) == 0 && len(o.srcs) == 0 && !o.atom {
		return append(out, part{box: b, ans: ans, same: same}), more
	}
	pcs := [][]portRange{b.ports}
	switch {
	case o.atom:
		pcs = eachPort(b.ports)
	case len(o.ports) > 0:
		pcs = portAxis.partition(b.ports, o.ports)
	}
	scs := [][]addrRange{b.src}
	if len(o.srcs) > 0 {
		scs = addrAxis.partition(b.src, o.srcs)
	}
	for _, pc := range pcs {
		for _, sc := range scs {
			sub := box{src: sc, ports: pc}
			if portAxis.contains(pc, port) && addrAxis.contains(sc, rep) {
				out = append(out, part{box: sub, ans: ans, same: same})
			} else {
				more = append(more, sub)
			}
		}
	}
	return out, more
}

// eachPort puts every port of the intervals in a class of its own.
func eachPort(ports []portRange) [][]portRange {
	var out [][]portRange
	for _, r := range ports {
		for p := r.lo; p <= r.hi; p++ {
			out = append(out, []portRange{{p, p}})
		}
	}
	return out
}

func (a *analyzer) allSame() []bool {
	s := make([]bool, len(a.locals))
	for i := range s {
		s[i] = true
	}
	return s
}

// sameAs lists the local addresses the evaluated rules did not tell apart
// from u.addr. An answer that names the probe's own address (a DNAT that
// kept it) is not shared.
func (a *analyzer) sameAs(u unit, o *observer, ans *answer) []bool {
	me := slices.Index(a.locals, u.addr)
	if me < 0 || o.dstAny || ans.echo {
		return nil
	}
	s := make([]bool, len(a.locals))
	for i, l := range a.locals {
		s[i] = l.Is4() == u.addr.Is4() && (o.sig == nil || o.sig[i] == o.sig[me])
	}
	return s
}

// listened reports whether a socket listens on a port of the box (its
// answer depends on the address it is bound to).
func (a *analyzer) listened(u unit, b box) bool {
	for p := range a.listeners[nf.ProtoName(u.proto)] {
		if portAxis.contains(b.ports, int32(p)) {
			return true
		}
	}
	return false
}

// initialBoxes isolates the listened ports (an open port differs from its
// neighbours by the socket, not by a rule).
func (a *analyzer) initialBoxes(u unit) []box {
	all := []portRange{{0, 65535}}
	if !nf.HasPorts(u.proto) {
		return []box{{src: []addrRange{u.src}, ports: []portRange{{0, 0}}}}
	}
	var listened []portRange
	for p := range a.listeners[nf.ProtoName(u.proto)] {
		if p >= 0 && p <= 65535 {
			listened = append(listened, portRange{int32(p), int32(p)})
		}
	}
	var out []box
	for _, pc := range portAxis.partition(all, listened) {
		out = append(out, box{src: []addrRange{u.src}, ports: pc})
	}
	return out
}

// eval traces one probe and classifies its outcomes.
func (a *analyzer) eval(u unit, src netip.Addr, port int, obs trace.Observer) *answer {
	in := trace.Input{Packet: probePacket(u.proto, src, u.addr, a.sport, port, u.iface), Observe: obs}
	res, err := a.sim.Trace(in)
	if err != nil {
		r := row{state: Filtered, conds: []string{"trace failed: " + err.Error()}, path: []trace.Step{}}
		return &answer{rows: []row{r}, key: answerKey([]row{r})}
	}
	return a.classify(res, probe{proto: u.proto, port: port, dst: u.addr})
}
