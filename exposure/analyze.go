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
	sim       *trace.Simulator
	rs        *nf.Ruleset
	env       *nf.Env
	// info caches the cuts of each chain entered, computed on first use
	// (a large dump has far more chains than any scan enters).
	info      sync.Map
	listeners listenerIndex
	sport     uint16
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
	index []int32
}

// chain returns the cached cuts of ch.
func (a *analyzer) chain(ch *nf.Chain) *chainInfo {
	if v, ok := a.info.Load(ch); ok {
		return v.(*chainInfo)
	}
	ci := &chainInfo{rules: make([]*cuts, len(ch.Rules)), index: chainPortCuts(ch, a.env)}
	for i, r := range ch.Rules {
		if c := ruleCuts(r, a.env); !c.empty() {
			ci.rules[i] = &c
		}
	}
	v, _ := a.info.LoadOrStore(ch, ci)
	return v.(*chainInfo)
}

// ruleCutsOf returns the cuts of r (nil for none).
func (a *analyzer) ruleCutsOf(r *nf.Rule) *cuts {
	ci := a.chain(r.Chain)
	if i := r.Index - 1; i >= 0 && i < len(ci.rules) && r.Chain.Rules[i] == r {
		return ci.rules[i]
	}
	c := ruleCuts(r, a.env)
	return &c
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
	cells := a.run(units, opt.Workers)
	rep := &Report{Exposures: []Exposure{}, Notes: notes}
	for i, u := range units {
		rep.Exposures = append(rep.Exposures, assemble(u, cells[i], opt.From.IsValid())...)
	}
	sortExposures(rep.Exposures)
	return rep, nil
}

// run refines the units in parallel.
func (a *analyzer) run(units []unit, workers int) [][]cell {
	out := make([][]cell, len(units))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = a.refine(units[i])
			}
		}()
	}
	for i := range units {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
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
