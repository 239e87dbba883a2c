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
	env       *nf.Env
	rules     map[*nf.Rule]*cuts
	chains    map[*nf.Chain][]int32
	listeners listenerIndex
	sport     uint16
}

// newAnalyzer prepares the simulator and the cuts of every rule.
func newAnalyzer(in Input, sport uint16) *analyzer {
	env := in.Env
	if env == nil {
		env = nf.NewEnv()
	}
	a := &analyzer{sim: trace.New(in.Ruleset, env), env: env, rules: map[*nf.Rule]*cuts{},
		chains: map[*nf.Chain][]int32{}, listeners: newListenerIndex(in.Listeners), sport: sport}
	for _, t := range in.Ruleset.Tables {
		for _, ch := range t.Chains {
			a.addChain(ch)
		}
	}
	return a
}

func (a *analyzer) addChain(ch *nf.Chain) {
	if pc := chainPortCuts(ch, a.env); len(pc) > 0 {
		a.chains[ch] = pc
	}
	for _, r := range ch.Rules {
		if c := ruleCuts(r, a.env); !c.empty() {
			a.rules[r] = &c
		}
	}
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
