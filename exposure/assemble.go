package exposure

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// group is one answer over a port interval and the sources that get it.
type group struct {
	ans     *answer
	sources []addrRange
}

// interval is a run of ports whose source profile is the same.
type interval struct {
	lo, hi int32
	groups []group
	key    string
}

// assemble turns the cells of a unit into exposures: per elementary port
// interval the cells covering it tile the sources; equal answers over
// sources merge, then equal profiles over adjacent ports.
func assemble(u unit, cells []cell, fixed bool) []Exposure {
	var out []Exposure
	for _, iv := range intervals(u, cells) {
		for _, g := range iv.groups {
			out = append(out, exposures(u, iv, g, len(iv.groups) == 1 && !fixed)...)
		}
	}
	return out
}

// intervals sweeps the cells by port.
func intervals(u unit, cells []cell) []interval {
	slices.SortFunc(cells, func(x, y cell) int {
		return cmp.Or(cmp.Compare(x.plo, y.plo), x.src.lo.Compare(y.src.lo))
	})
	starts := make([]int32, 0, len(cells))
	for _, c := range cells {
		starts = append(starts, c.plo)
	}
	starts = slices.Compact(starts)
	var out []interval
	var active []cell
	next := 0
	for i, p := range starts {
		active = slices.DeleteFunc(active, func(c cell) bool { return c.phi < p })
		for next < len(cells) && cells[next].plo == p {
			active = append(active, cells[next])
			next++
		}
		hi := cells[len(cells)-1].phi
		if i+1 < len(starts) {
			hi = starts[i+1] - 1
		}
		iv := profile(u, active, p, hi)
		if n := len(out); n > 0 && out[n-1].key == iv.key && out[n-1].hi+1 == iv.lo {
			out[n-1].hi = iv.hi
			continue
		}
		out = append(out, iv)
	}
	return out
}

// profile groups the active cells (which tile the sources) by answer.
// Martian sources join their neighbours' ranges.
func profile(u unit, active []cell, lo, hi int32) interval {
	sorted := slices.Clone(active)
	slices.SortFunc(sorted, func(x, y cell) int { return x.src.lo.Compare(y.src.lo) })
	iv := interval{lo: lo, hi: hi}
	byKey := map[string]int{}
	prev := -1
	for _, c := range sorted {
		if c.ans == nil {
			continue
		}
		gi, ok := byKey[c.ans.key]
		if !ok {
			gi = len(iv.groups)
			byKey[c.ans.key] = gi
			iv.groups = append(iv.groups, group{ans: c.ans})
		}
		g := &iv.groups[gi]
		if prev == gi {
			g.sources[len(g.sources)-1].hi = c.src.hi
		} else {
			g.sources = append(g.sources, c.src)
		}
		prev = gi
	}
	stretch(u, iv.groups, sorted)
	var b strings.Builder
	for _, g := range iv.groups {
		b.WriteString(g.ans.key)
		for _, r := range g.sources {
			b.WriteString(r.lo.String() + "-" + r.hi.String() + ",")
		}
		b.WriteString("\n")
	}
	iv.key = b.String()
	return iv
}

// stretch extends the first and last source ranges over martian cells at
// the edges of the source space.
func stretch(u unit, gs []group, sorted []cell) {
	if len(gs) == 0 {
		return
	}
	var first, last *addrRange
	for i := range gs {
		for j := range gs[i].sources {
			r := &gs[i].sources[j]
			if first == nil || r.lo.Compare(first.lo) < 0 {
				first = r
			}
			if last == nil || r.hi.Compare(last.hi) > 0 {
				last = r
			}
		}
	}
	first.lo, last.hi = u.src.lo, u.src.hi
}

// exposures renders one group of one interval.
func exposures(u unit, iv interval, g group, everyone bool) []Exposure {
	srcs := sourceList(g.sources)
	if everyone {
		srcs = []string{netip.PrefixFrom(u.src.lo, 0).String()}
	}
	var out []Exposure
	shown := g.ans.shownRows()
	for i, r := range g.ans.rows {
		o := shown[i].owner
		o.SourceRanges = slices.Clone(o.SourceRanges)
		e := Exposure{Proto: protoLabel(u.proto), Addr: u.addr.String(), PortFrom: int(iv.lo), PortTo: int(iv.hi),
			State: r.state, Sources: srcs, Iface: u.iface, To: targets(r.to, shown[i].addrs, iv), Owner: o,
			Path: r.path, Conditions: r.conds}
		if r.listener != nil {
			e.Listener = *r.listener
		}
		if e.Path == nil {
			e.Path = []trace.Step{}
		}
		if e.Conditions == nil {
			e.Conditions = []string{}
		}
		e.Sensitive = sensitive(e)
		out = append(out, e)
	}
	return out
}

// shown is what every exposure of an answer row repeats: its owner and
// the addresses of its targets.
type shown struct {
	owner Owner
	addrs []string
}

// shownRows computes the shown parts of every row of the answer once: an
// answer is shared by the exposures of many intervals and addresses.
// Assembly is sequential.
func (ans *answer) shownRows() []shown {
	if ans.shown == nil {
		ans.shown = make([]shown, len(ans.rows))
		for i, r := range ans.rows {
			ans.shown[i].owner = attribute(r)
			for _, t := range r.to {
				ans.shown[i].addrs = append(ans.shown[i].addrs, t.addr.String())
			}
		}
	}
	return ans.shown
}

func sourceList(rs []addrRange) []string {
	out := []string{}
	for _, r := range rs {
		for _, p := range cidrs(r) {
			out = append(out, p.String())
		}
	}
	return out
}

func targets(ts []target, addrs []string, iv interval) []Target {
	out := make([]Target, 0, len(ts))
	for i, t := range ts {
		x := Target{Addr: addrs[i], Port: t.port, Probability: t.prob}
		if t.same {
			x.Port = int(iv.lo)
			if iv.hi > iv.lo {
				x.PortTo = int(iv.hi)
			}
		}
		out = append(out, x)
	}
	return out
}

// protoLabel names the protocol in the output (icmp for both families).
func protoLabel(p uint8) string {
	if p == nf.ProtoICMPv6 {
		return "icmp"
	}
	return nf.ProtoName(p)
}

var stateOrder = map[string]int{Open: 0, Forwarded: 1, Closed: 2, Filtered: 3}

// sortExposures orders by interface, protocol, address, port, state.
func sortExposures(es []Exposure) {
	slices.SortStableFunc(es, func(x, y Exposure) int {
		ax, _ := netip.ParseAddr(x.Addr)
		ay, _ := netip.ParseAddr(y.Addr)
		return cmp.Or(cmp.Compare(x.Iface, y.Iface), cmp.Compare(x.Proto, y.Proto), ax.Compare(ay),
			cmp.Compare(x.PortFrom, y.PortFrom), cmp.Compare(stateOrder[x.State], stateOrder[y.State]),
			cmp.Compare(strings.Join(x.Sources, ","), strings.Join(y.Sources, ",")))
	})
}
