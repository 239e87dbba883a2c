package exposure

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"

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

// chainInfo holds the cuts of a chain's rules (nil when a rule has none)
// and, for a chain indexed on the destination port, the ports of all its
// rules.
type chainInfo struct {
	rules []*cuts
	index *portIndex
	// sigs[r] (per rule) and sig (chain index on the destination) give,
	// per local address, a hash of the destination ranges holding it.
	sigs [][]uint64
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

// chain returns the shared cached cuts of ch. The cuts and signatures of
// its rules share one allocation each.
func (a *analyzer) chain(ch *nf.Chain) *chainInfo {
	if v, ok := a.info.Load(ch); ok {
		return v.(*chainInfo)
	}
	n := len(ch.Rules)
	ci := &chainInfo{rules: make([]*cuts, n), sigs: make([][]uint64, n)}
	store := make([]cuts, 0, n)
	var sigs []uint64
	var all []addrRange
	for i, r := range ch.Rules {
		c := ruleCuts(r, a.env)
		if c.empty() {
			continue
		}
		store = append(store, c)
		ci.rules[i] = &store[len(store)-1]
		if len(c.dsts) > 0 {
			if sigs == nil {
				sigs = make([]uint64, 0, (n-i)*len(a.locals))
			}
			start := len(sigs)
			sigs = a.appendDstSig(sigs, c.dsts)
			ci.sigs[i] = sigs[start:len(sigs):len(sigs)]
		}
		all = append(all, c.dsts...)
	}
	ci.index = chainPortCuts(ch, ci.rules)
	if ch.Index != nil && ch.Index.Field == nf.FieldDst {
		ci.sig = a.dstSig(all)
	}
	v, _ := a.info.LoadOrStore(ch, ci)
	return v.(*chainInfo)
}

// ruleCutsOf returns the cuts of r (nil for none) and its destination
// signature, from ci, the cuts of r's chain.
func (a *analyzer) ruleCutsOf(ci *chainInfo, r *nf.Rule) (*cuts, []uint64) {
	if i := r.Index - 1; i >= 0 && i < len(ci.rules) && r.Chain.Rules[i] == r {
		return ci.rules[i], ci.sigs[i]
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
