package exposure

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// analyzer holds what every unit shares; it is read-only once built.
type analyzer struct {
	sim *trace.Simulator
	rs  *nf.Ruleset
	env *nf.Env
	// info caches the cuts of each chain entered, computed on first use
	// (a large dump has far more chains than any scan enters).
	info      sync.Map
	listeners listenerIndex
	sport     uint16
	// locals are the analysed local addresses: answers are shared between
	// two of them when no evaluated rule tells them apart.
	locals []netip.Addr
}

// newAnalyzer prepares the simulator.
func newAnalyzer(in Input, sport uint16) *analyzer {
	env := in.Env
	if env == nil {
		env = nf.NewEnv()
	}
	return &analyzer{sim: trace.New(in.Ruleset, env), rs: in.Ruleset, env: env, listeners: newListenerIndex(in.Listeners), sport: sport}
}

// chainInfo holds the cuts of a chain's rules, each computed when a trace
// first evaluates it, and what the chain's index hides: for a chain indexed
// on the destination port, the port sets of all its rules; on the
// destination address, per local address, a hash of the rules it offers.
type chainInfo struct {
	rules []atomic.Pointer[ruleInfo]
	index *portIndex
	sig   []uint64
}

// ruleInfo is the cuts of one rule (cuts points at c, nil when it has
// none) and its destination signature: per local address, a hash of the
// destination ranges holding it.
type ruleInfo struct {
	c    cuts
	cuts *cuts
	sig  []uint64
}

// chainCache holds the chain infos one worker computed (no locking).
type chainCache map[*nf.Chain]*chainInfo

// chainIn returns the cuts of ch from the worker's cache.
func (a *analyzer) chainIn(cc chainCache, ch *nf.Chain) *chainInfo {
	if ci := cc[ch]; ci != nil {
		return ci
	}
	ci := a.chain(ch)
	cc[ch] = ci
	return ci
}

// chain returns the shared cached cuts of ch.
func (a *analyzer) chain(ch *nf.Chain) *chainInfo {
	if v, ok := a.info.Load(ch); ok {
		return v.(*chainInfo)
	}
	ci := &chainInfo{rules: make([]atomic.Pointer[ruleInfo], len(ch.Rules))}
	if ix := ch.Index(); ix != nil {
		switch ix.Field {
		case nf.FieldDPort:
			rules := make([]*cuts, len(ch.Rules))
			for i, r := range ch.Rules {
				rules[i] = ci.rule(a, i, r).cuts
			}
			ci.index = chainPortCuts(ch, rules)
		case nf.FieldDst:
			ci.sig = a.offeredSig(ix)
		}
	}
	v, _ := a.info.LoadOrStore(ch, ci)
	return v.(*chainInfo)
}

// rule returns the cuts of r, the i-th rule of the chain, computing them on
// first use (workers racing on it compute the same value).
func (ci *chainInfo) rule(a *analyzer, i int, r *nf.Rule) *ruleInfo {
	if ri := ci.rules[i].Load(); ri != nil {
		return ri
	}
	ri := &ruleInfo{c: ruleCuts(r, a.env)}
	if !ri.c.empty() {
		ri.cuts, ri.sig = &ri.c, a.dstSig(ri.c.dsts)
	}
	ci.rules[i].Store(ri)
	return ri
}

// offeredSig hashes, per local address, the rules a destination-indexed
// chain offers a packet to it: the other rules are never evaluated, so two
// addresses offered the same rules are told apart only by those rules.
func (a *analyzer) offeredSig(ix *nf.ChainIndex) []uint64 {
	sig := make([]uint64, len(a.locals))
	var buf []int32
	for i, l := range a.locals {
		buf = ix.Candidates(&nf.Packet{Dst: l}, buf)
		h := uint64(14695981039346656037)
		for _, c := range buf {
			h = (h ^ uint64(c+1)) * 1099511628211
		}
		sig[i] = h
	}
	return sig
}

// ruleCutsOf returns the cuts of r (nil for none) and its destination
// signature, from ci, the cuts of r's chain.
func (a *analyzer) ruleCutsOf(ci *chainInfo, r *nf.Rule) (*cuts, []uint64) {
	if i := r.Index() - 1; i >= 0 && i < len(ci.rules) && r.Chain.Rules[i] == r {
		ri := ci.rule(a, i, r)
		return ri.cuts, ri.sig
	}
	c := ruleCuts(r, a.env)
	return &c, a.dstSig(c.dsts)
}

// dstSig hashes, per local address, the indexes of the ranges holding it:
// two addresses with equal hashes are treated alike by those ranges.
func (a *analyzer) dstSig(rs []addrRange) []uint64 {
	if len(rs) == 0 {
		return nil
	}
	return a.appendDstSig(make([]uint64, 0, len(a.locals)), rs)
}

// appendDstSig appends dstSig(rs) to sig.
func (a *analyzer) appendDstSig(sig []uint64, rs []addrRange) []uint64 {
	for _, l := range a.locals {
		h := uint64(14695981039346656037)
		for j, r := range rs {
			if inRange(r, l) {
				h = (h ^ uint64(j+1)) * 1099511628211
			}
		}
		sig = append(sig, h)
	}
	return sig
}

// Analyze computes the exposure map of every requested interface,
// protocol and local address.
func Analyze(in Input, opt Options) (*Report, error) {
	if in.Ruleset == nil {
		return nil, fmt.Errorf("analyze exposure: no ruleset")
	}
	opt, notes := defaults(in, opt)
	units, err := planUnits(opt)
	if err != nil {
		return nil, err
	}
	a := newAnalyzer(in, opt.SourcePort)
	a.locals = opt.Addrs
	parts := a.run(units, opt.Workers)
	rep := &Report{Exposures: []Exposure{}, Notes: notes}
	for i, u := range units {
		rep.Exposures = append(rep.Exposures, assemble(u, cells(parts[i]), opt.From.IsValid())...)
	}
	sortExposures(rep.Exposures)
	return rep, nil
}

// run refines the units: units that differ only in their local address
// run one after the other, each seeded with the cells of the previous
// one; the boxes of one unit are traced by every worker in parallel.
func (a *analyzer) run(units []unit, workers int) [][]part {
	out := make([][]part, len(units))
	caches := make([]chainCache, workers)
	for w := range caches {
		caches[w] = chainCache{}
	}
	var prev []part
	for i, u := range units {
		if i == 0 || !sameGroup(units[i-1], u) {
			prev = nil
		}
		out[i] = a.refine(u, prev, caches)
		prev = out[i]
	}
	return out
}

func sameGroup(x, y unit) bool {
	return x.iface == y.iface && x.proto == y.proto && x.src == y.src && x.fixed == y.fixed
}

// defaults fills the options from the environment.
func defaults(in Input, opt Options) (Options, []string) {
	var notes []string
	env := in.Env
	if env == nil {
		env = nf.NewEnv()
	}
	if len(opt.Ifaces) == 0 {
		for _, i := range env.Ifaces {
			if i.Name != "lo" && !slices.Contains(opt.Ifaces, i.Name) {
				opt.Ifaces = append(opt.Ifaces, i.Name)
			}
		}
	}
	if len(opt.Ifaces) == 0 {
		opt.Ifaces = []string{"eth0"}
		notes = append(notes, "no interfaces known: probes arrive on \"eth0\" (give interfaces with the local addresses, or -i)")
	}
	if len(opt.Addrs) == 0 {
		opt.Addrs = localAddrs(env)
	}
	if len(opt.Protos) == 0 {
		opt.Protos = []string{"tcp", "udp", "sctp", "icmp"}
	}
	if opt.SourcePort == 0 {
		opt.SourcePort = 40000
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	return opt, notes
}

// localAddrs lists the non-loopback local addresses, sorted.
func localAddrs(env *nf.Env) []netip.Addr {
	var out []netip.Addr
	for a := range env.Local {
		if !a.IsLoopback() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y netip.Addr) int { return x.Compare(y) })
	return out
}

// planUnits lists interface × protocol × address.
func planUnits(opt Options) ([]unit, error) {
	var units []unit
	for _, ifc := range opt.Ifaces {
		for _, p := range opt.Protos {
			for _, addr := range opt.Addrs {
				proto, err := protoNumber(p, addr.Is4())
				if err != nil {
					return nil, err
				}
				src := fullRange(addr)
				if opt.From.IsValid() {
					if opt.From.Is4() != addr.Is4() {
						continue
					}
					src = addrRange{opt.From, opt.From}
				}
				units = append(units, unit{iface: ifc, proto: proto, addr: addr, src: src, fixed: opt.From.IsValid()})
			}
		}
	}
	return units, nil
}
