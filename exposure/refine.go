package exposure

import (
	"net/netip"
	"slices"
	"sort"
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

// box is a set of probes: sources src × destination ports plo..phi.
type box struct {
	src      addrRange
	plo, phi int32
}

// cell is a final box and its answer (nil for martian sources). same
// marks the local addresses (indexes of analyzer.locals) whose probes of
// the box get the same answer: no evaluated rule told them apart.
type cell struct {
	box
	ans  *answer
	same []bool
}

// observer collects the cuts of the rules a trace evaluates that fall
// strictly inside the box.
type observer struct {
	a     *analyzer
	cc    chainCache
	b     box
	ports []int32
	srcs  []netip.Addr
	// sig accumulates the destination signatures of what was evaluated;
	// dstAny records a dependence on the destination ranges do not show.
	sig    []uint64
	dstAny bool
	// last is the chain of the previous call (rules come chain by chain).
	last   *nf.Chain
	lastCI *chainInfo
}

// chainInfo returns the cuts of ch, from the last call when it was the
// same chain.
func (o *observer) chainInfo(ch *nf.Chain) *chainInfo {
	if ch != o.last || o.lastCI == nil {
		o.last, o.lastCI = ch, o.a.chainIn(o.cc, ch)
	}
	return o.lastCI
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
	if c.Index == nil {
		// Only an indexed chain has cuts of its own (chainPortCuts, dstSig).
		return
	}
	ci := o.chainInfo(c)
	if ci.index != nil {
		o.addPorts(ci.index)
	}
	o.mix(ci.sig)
}

// Rule implements trace.Observer.
func (o *observer) Rule(r *nf.Rule) {
	c, sig := o.a.ruleCutsOf(o.chainInfo(r.Chain), r)
	if c == nil {
		return
	}
	o.mix(sig)
	o.dstAny = o.dstAny || c.dstAny
	if c.atom {
		o.addPorts(allPorts)
	}
	o.addPorts(c.ports)
	for _, s := range c.srcs {
		if s.Is4() == o.b.src.lo.Is4() && s.Compare(o.b.src.lo) > 0 && s.Compare(o.b.src.hi) <= 0 {
			o.srcs = append(o.srcs, s)
		}
	}
}

func (o *observer) addPorts(sorted []int32) {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i] > o.b.plo })
	for ; i < len(sorted) && sorted[i] <= o.b.phi; i++ {
		o.ports = append(o.ports, sorted[i])
	}
}

// refine partitions one unit into cells whose probes all get the same
// answer. Cells of prev (the same unit for another local address) that
// hold for this address too are taken over; the others are refined, by
// one worker per chain cache.
func (a *analyzer) refine(u unit, prev []cell, caches []chainCache) []cell {
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
			q.work(func(b box, out []cell, more []box) ([]cell, []box) { return a.refineBox(u, b, cc, out, more) })
		}()
	}
	wg.Wait()
	return q.out
}

// boxQueue holds the boxes left to trace and the cells found, shared by
// the workers of one unit.
type boxQueue struct {
	mu    sync.Mutex
	wake  *sync.Cond
	boxes []box
	out   []cell
	// busy counts the workers tracing a box (which may queue more).
	busy int
}

// work takes boxes until none is left and no other worker can add one.
func (q *boxQueue) work(step func(b box, out []cell, more []box) ([]cell, []box)) {
	var out []cell
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
// evaluated rules do not tell apart from it becomes a cell (appended to
// out), the rest is returned as boxes to trace (appended to more).
func (a *analyzer) refineBox(u unit, b box, cc chainCache, out []cell, more []box) ([]cell, []box) {
	rep, ok := representative(b.src, a.env.IsLocal)
	if u.fixed {
		rep, ok = b.src.lo, true
	}
	if !ok {
		return append(out, cell{box: b, same: a.allSame()}), more
	}
	ans, obs := a.evalObserved(u, rep, b, cc)
	same := a.sameAs(u, obs, ans)
	if len(obs.ports) == 0 && len(obs.srcs) == 0 {
		return append(out, cell{box: b, ans: ans, same: same}), more
	}
	for _, sub := range split(b, obs) {
		if sub.plo == b.plo && inRange(sub.src, rep) {
			out = append(out, cell{box: sub, ans: ans, same: same})
		} else {
			more = append(more, sub)
		}
	}
	return out, more
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
	ports := a.listeners[nf.ProtoName(u.proto)]
	for p := range ports {
		if int32(p) >= b.plo && int32(p) <= b.phi {
			return true
		}
	}
	return false
}

func inRange(r addrRange, a netip.Addr) bool { return a.Compare(r.lo) >= 0 && a.Compare(r.hi) <= 0 }

// initialBoxes isolates the listened ports (an open port differs from its
// neighbours by the socket, not by a rule).
func (a *analyzer) initialBoxes(u unit) []box {
	if !nf.HasPorts(u.proto) {
		return []box{{src: u.src}}
	}
	b := box{src: u.src, plo: 0, phi: 65535}
	o := &observer{a: a, b: b, cc: chainCache{}}
	o.addPorts(a.listeners.portCuts(nf.ProtoName(u.proto)))
	if len(o.ports) == 0 {
		return []box{b}
	}
	return split(b, o)
}

// split cuts a box along the observed cuts into a grid.
func split(b box, o *observer) []box {
	ports := append([]int32{b.plo}, o.ports...)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	srcs := append([]netip.Addr{b.src.lo}, o.srcs...)
	slices.SortFunc(srcs, func(x, y netip.Addr) int { return x.Compare(y) })
	srcs = slices.Compact(srcs)
	var out []box
	for i, p := range ports {
		phi := b.phi
		if i+1 < len(ports) {
			phi = ports[i+1] - 1
		}
		for j, s := range srcs {
			hi := b.src.hi
			if j+1 < len(srcs) {
				hi = srcs[j+1].Prev()
			}
			out = append(out, box{src: addrRange{s, hi}, plo: p, phi: phi})
		}
	}
	return out
}

// evalObserved traces the box's representative probe and reports the
// cuts the evaluated rules draw inside the box.
func (a *analyzer) evalObserved(u unit, src netip.Addr, b box, cc chainCache) (*answer, *observer) {
	o := &observer{a: a, b: b, cc: cc}
	return a.eval(u, src, int(b.plo), o), o
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
