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

// cell is a final box and its answer (nil for martian sources).
type cell struct {
	box
	ans *answer
}

// observer collects the cuts of the rules a trace evaluates that fall
// strictly inside the box.
type observer struct {
	a     *analyzer
	b     box
	ports []int32
	srcs  []netip.Addr
}

// Chain implements trace.Observer.
func (o *observer) Chain(c *nf.Chain) {
	if pc := o.a.chain(c).index; pc != nil {
		o.addPorts(pc)
	}
}

// Rule implements trace.Observer.
func (o *observer) Rule(r *nf.Rule) {
	c := o.a.ruleCutsOf(r)
	if c == nil {
		return
	}
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
// answer.
func (a *analyzer) refine(u unit) []cell {
	var out []cell
	queue := a.initialBoxes(u)
	for len(queue) > 0 {
		b := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		rep, ok := representative(b.src, a.env.IsLocal)
		if u.fixed {
			rep, ok = b.src.lo, true
		}
		if !ok {
			out = append(out, cell{box: b})
			continue
		}
		ans, obs := a.evalObserved(u, rep, b)
		if len(obs.ports) == 0 && len(obs.srcs) == 0 {
			out = append(out, cell{box: b, ans: ans})
			continue
		}
		for _, sub := range split(b, obs) {
			if sub.plo == b.plo && inRange(sub.src, rep) {
				out = append(out, cell{box: sub, ans: ans})
			} else {
				queue = append(queue, sub)
			}
		}
	}
	return out
}

func inRange(r addrRange, a netip.Addr) bool { return a.Compare(r.lo) >= 0 && a.Compare(r.hi) <= 0 }

// initialBoxes isolates the listened ports (an open port differs from its
// neighbours by the socket, not by a rule).
func (a *analyzer) initialBoxes(u unit) []box {
	if !nf.HasPorts(u.proto) {
		return []box{{src: u.src}}
	}
	b := box{src: u.src, plo: 0, phi: 65535}
	o := &observer{a: a, b: b}
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
func (a *analyzer) evalObserved(u unit, src netip.Addr, b box) (*answer, *observer) {
	o := &observer{a: a, b: b}
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
	return a.classify(res, probe{proto: u.proto, port: port})
}
