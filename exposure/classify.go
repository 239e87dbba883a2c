package exposure

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// answer is what one probe class observes: one row per state (and per
// set of conditions when assumptions change the state).
type answer struct {
	rows []row
	key  string
	// echo: an outcome kept the probe's destination address while being
	// forwarded or DNATed, so the answer names the probed address.
	echo bool
	// shown caches what the exposures of each row repeat (see shownRows).
	shown []shown
}

// row is one state of an answer.
type row struct {
	state    string
	to       []target
	path     []trace.Step
	conds    []string
	listener *Listener
}

// target is a destination after NAT; same marks "the probe's own port"
// so that classes of several ports share it.
type target struct {
	addr netip.Addr
	port int
	same bool
	prob float64
}

// probe is one packet of a class.
type probe struct {
	proto uint8
	port  int
	dst   netip.Addr
}

// outcomeRow classifies one outcome of the tracer.
func (a *analyzer) outcomeRow(o trace.Outcome, pr probe) row {
	r := row{path: o.Path, state: Filtered}
	switch {
	case o.Delivered == trace.DeliveredForward:
		r.state = Forwarded
		r.to = []target{finalTarget(o, pr)}
	case o.Delivered == trace.DeliveredLocal:
		r.state, r.listener = a.localState(o, pr)
		if o.Packet.CT.DNAT {
			r.to = []target{finalTarget(o, pr)}
		}
		if o.Packet.CT.SNAT && !a.routable(o.Packet.Src) {
			// The stack answers the rewritten source; without a route to it
			// the answer is dropped before conntrack could undo the SNAT
			// (ip_send_unicast_reply's route lookup): the scanner sees nothing.
			r.state = Filtered
		}
	case o.Verdict == nf.VerdictReject.String():
		r.state = rejectState(o.RejectWith, pr.proto)
	}
	if o.Verdict == nf.VerdictQueue.String() || o.Verdict == nf.VerdictStolen.String() {
		r.conds = append(r.conds, fmt.Sprintf("verdict %s: the packet's fate depends on a program outside netfilter", o.Verdict))
	}
	return r
}

func finalTarget(o trace.Outcome, pr probe) target {
	t := target{addr: o.Packet.Dst, port: int(o.Packet.DPort), prob: o.Probability}
	if !nf.HasPorts(pr.proto) {
		t.port = 0
	}
	t.same = nf.HasPorts(pr.proto) && t.port == pr.port
	return t
}

// localState: a packet delivered to the host is open when a socket takes
// it (ICMP echo is answered by the kernel), closed otherwise.
func (a *analyzer) localState(o trace.Outcome, pr probe) (string, *Listener) {
	if !nf.HasPorts(pr.proto) {
		return Open, nil
	}
	if l := a.listeners.lookup(nf.ProtoName(pr.proto), o.Packet.Dst, int(o.Packet.DPort)); l != nil {
		return Open, l
	}
	return Closed, nil
}

// routable reports whether the node has a route to a (true when no
// routes are known).
func (a *analyzer) routable(addr netip.Addr) bool {
	if len(a.env.Routes) == 0 || a.env.IsLocal(addr) {
		return true
	}
	r, ok := a.env.Lookup(addr)
	return ok && !r.Unreachable
}

// rejectState maps a REJECT reply onto what nmap reports: a TCP RST is
// "closed"; for UDP an ICMP port unreachable is "closed" too (nmap's UDP
// scan); every other ICMP error is "filtered".
func rejectState(with string, proto uint8) string {
	switch {
	case proto == nf.ProtoTCP && (with == "tcp-reset" || with == "tcp-rst"):
		return Closed
	case proto == nf.ProtoUDP && (with == "" || with == "icmp-port-unreachable" || with == "icmp6-port-unreachable" || with == "port-unreach"):
		return Closed
	}
	return Filtered
}

// classify turns a trace result into an answer. Outcomes are grouped by
// the assumptions they rest on; when every group leads to the same states,
// the assumptions do not matter and the answer is unconditional (its rows
// merge every outcome); otherwise each group's rows carry its assumptions.
func (a *analyzer) classify(res trace.Result, pr probe) *answer {
	ans := &answer{}
	for _, o := range res.Outcomes {
		if (o.Delivered == trace.DeliveredForward || o.Packet.CT.DNAT) && o.Packet.Dst == pr.dst {
			ans.echo = true
		}
	}
	if oneGroup(res.Outcomes) {
		// The usual case: every outcome rests on the same assumptions.
		ans.rows = a.groupRows(res.Outcomes, pr)
		if len(res.Outcomes) > 0 && len(res.Outcomes[0].Assumptions) > 0 {
			common := splitConds(strings.Join(res.Outcomes[0].Assumptions, "\x00"))
			for i := range ans.rows {
				ans.rows[i].conds = append(slices.Clone(common), ans.rows[i].conds...)
			}
		}
		ans.key = answerKey(ans.rows)
		return ans
	}
	var order []string
	groups := map[string][]trace.Outcome{}
	for _, o := range res.Outcomes {
		k := strings.Join(o.Assumptions, "\x00")
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], o)
	}
	var all [][]row
	for _, k := range order {
		all = append(all, a.groupRows(groups[k], pr))
	}
	if sameStates(all) {
		ans.rows = a.groupRows(res.Outcomes, pr)
		if common := commonConds(order); len(common) > 0 {
			for i := range ans.rows {
				ans.rows[i].conds = append(slices.Clone(common), ans.rows[i].conds...)
			}
		}
	} else {
		for i, k := range order {
			for _, r := range all[i] {
				r.conds = append(splitConds(k), r.conds...)
				ans.rows = append(ans.rows, r)
			}
		}
	}
	ans.key = answerKey(ans.rows)
	return ans
}

// oneGroup reports whether every outcome rests on the same assumptions.
func oneGroup(os []trace.Outcome) bool {
	for i := 1; i < len(os); i++ {
		if !slices.Equal(os[i].Assumptions, os[0].Assumptions) {
			return false
		}
	}
	return true
}

// commonConds are the assumptions every group rests on: they hold
// whatever the other assumptions say, so they stay conditions.
func commonConds(keys []string) []string {
	common := splitConds(keys[0])
	for _, k := range keys[1:] {
		in := splitConds(k)
		common = slices.DeleteFunc(common, func(c string) bool { return !slices.Contains(in, c) })
	}
	return common
}

// sameStates reports whether every group leads to the same states.
func sameStates(all [][]row) bool {
	states := func(rs []row) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.state)
		}
		slices.Sort(s)
		return strings.Join(s, ",")
	}
	for _, rs := range all[1:] {
		if states(rs) != states(all[0]) {
			return false
		}
	}
	return true
}

func splitConds(k string) []string {
	if k == "" {
		return nil
	}
	return strings.Split(k, "\x00")
}

// groupRows merges the outcomes of one assumption group by state; the
// targets of forwarded outcomes are summed per destination.
func (a *analyzer) groupRows(os []trace.Outcome, pr probe) []row {
	total := 0.0
	for _, o := range os {
		total += o.Probability
	}
	if total == 0 {
		total = 1
	}
	var rows []row
	// probs[i] sums the probability of rows[i]'s state (a row per state).
	var probs []float64
	for _, o := range os {
		r := a.outcomeRow(o, pr)
		i := slices.IndexFunc(rows, func(x row) bool { return x.state == r.state })
		if i < 0 {
			rows = append(rows, r)
			probs = append(probs, 0)
			i = len(rows) - 1
		} else {
			rows[i].to = addTargets(rows[i].to, r.to)
		}
		probs[i] += o.Probability / total
	}
	for i := range rows {
		for j := range rows[i].to {
			rows[i].to[j].prob /= total
		}
		if p := probs[i]; len(rows) > 1 {
			rows[i].conds = append(rows[i].conds, fmt.Sprintf("with probability %.4g (random choice)", p))
		}
	}
	return rows
}

func addTargets(dst, src []target) []target {
	for _, t := range src {
		i := slices.IndexFunc(dst, func(x target) bool { return x.addr == t.addr && x.port == t.port && x.same == t.same })
		if i < 0 {
			dst = append(dst, t)
			continue
		}
		dst[i].prob += t.prob
	}
	return dst
}

// answerKey identifies an answer: two classes with the same key merge.
func answerKey(rows []row) string {
	buf := keyBufs.Get().(*[]byte)
	defer keyBufs.Put(buf)
	b := (*buf)[:0]
	defer func() { *buf = b[:0] }()
	for _, r := range rows {
		b = append(b, r.state...)
		b = append(b, '|')
		for _, t := range r.to {
			b = t.addr.AppendTo(b)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(t.port), 10)
			b = strconv.AppendBool(b, t.same)
			b = strconv.AppendFloat(b, t.prob, 'g', 6, 64)
			b = append(b, ',')
		}
		b = append(b, '|')
		for _, s := range r.path {
			b = append(b, s.Family...)
			b = append(b, s.Backend...)
			b = append(b, s.Table...)
			b = append(b, s.Chain...)
			b = strconv.AppendInt(b, int64(s.Rule), 10)
			b = strconv.AppendBool(b, s.Policy)
			b = append(b, s.Hook...)
			b = append(b, ';')
		}
		for _, c := range r.conds {
			b = append(b, '|')
			b = append(b, c...)
		}
		if r.listener != nil {
			b = append(b, '|')
			b = strconv.AppendUint(b, r.listener.Inode, 10)
			b = append(b, r.listener.Addr...)
		}
		b = append(b, '\n')
	}
	return string(b)
}

// keyBufs are answerKey's scratch buffers (a key is a few kilobytes).
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// protoNumber maps the analysed protocol names.
func protoNumber(name string, v4 bool) (uint8, error) {
	switch name {
	case "tcp":
		return nf.ProtoTCP, nil
	case "udp":
		return nf.ProtoUDP, nil
	case "sctp":
		return nf.ProtoSCTP, nil
	case "icmp":
		if v4 {
			return nf.ProtoICMP, nil
		}
		return nf.ProtoICMPv6, nil
	}
	return 0, fmt.Errorf("parse protocol: %q is not tcp, udp, sctp or icmp", name)
}

// probePacket builds the first packet a scanner sends: a SYN, a UDP or
// SCTP packet, or an ICMP echo request.
func probePacket(proto uint8, src, dst netip.Addr, sport uint16, port int, iface string) nf.Packet {
	p := nf.Packet{Src: src, Dst: dst, Proto: proto, InIface: iface}
	switch {
	case nf.HasPorts(proto):
		p.SPort, p.DPort = sport, uint16(port)
		if proto == nf.ProtoTCP {
			p.TCPFlags = nf.TCPSyn
		}
	case proto == nf.ProtoICMP:
		p.ICMPType = 8
	case proto == nf.ProtoICMPv6:
		p.ICMPType = 128
	}
	return p
}
