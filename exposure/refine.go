package exposure

import (
	"net/netip"
	"slices"
	"sort"

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
	ci := o.a.chainIn(o.cc, c)
	if ci.index != nil {
		o.addPorts(ci.index)
	}
	o.mix(ci.sig)
}

// Rule implements trace.Observer.
func (o *observer) Rule(r *nf.Rule) {
	c, sig := o.a.ruleCutsOf(o.cc, r)
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
// hold for this address too are taken over; the others are refined.
func (a *analyzer) refine(u unit, prev []cell, cc chainCache) []cell {
	var out []cell
	queue := a.initialBoxes(u)
	if prev != nil {
		queue = queue[:0]
		me := slices.Index(a.locals, u.addr)
		for _, c := range prev {
			if me >= 0 && c.same != nil && c.same[me] && !a.listened(u, c.box) {
				out = append(out, c)
			} else {
				queue = append(queue, c.box)
			}
		}
	}
	for len(queue) > 0 {
		b := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		rep, ok := representative(b.src, a.env.IsLocal)
		if u.fixed {
			rep, ok = b.src.lo, true
		}
		if !ok {
			out = append(out, cell{box: b, same: a.allSame()})
			continue
		}
		ans, obs := a.evalObserved(u, rep, b, cc)
		same := a.sameAs(u, obs, ans)
		if len(obs.ports) == 0 && len(obs.srcs) == 0 {
			out = append(out, cell{box: b, ans: ans, same: same})
			continue
		}
		for _, sub := range split(b, obs) {
			if sub.plo == b.plo && inRange(sub.src, rep) {
				out = append(out, cell{box: sub, ans: ans, same: same})
			} else {
				queue = append(queue, sub)
			}
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
