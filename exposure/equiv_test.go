package exposure

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/internal/gen/randrules"
	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// flat is one row as a single probe sees it, for comparisons.
type flat struct {
	State    string
	To       []string
	Path     []string
	Conds    []string
	Listener uint64
}

func stepIDs(path []trace.Step) []string {
	out := []string{}
	for _, s := range path {
		out = append(out, fmt.Sprintf("%s/%s/%s/%d/%t/%s", s.Family, s.Table, s.Chain, s.Rule, s.Policy, s.Hook))
	}
	return out
}

// flatAnswer is what per-probe simulation says.
func flatAnswer(ans *answer, port int) []flat {
	var out []flat
	for _, r := range ans.rows {
		f := flat{State: r.state, Path: stepIDs(r.path), Conds: append([]string{}, r.conds...), To: []string{}}
		for _, t := range r.to {
			p := t.port
			if t.same {
				p = port
			}
			f.To = append(f.To, fmt.Sprintf("%s:%d:%.4f", t.addr, p, t.prob))
		}
		if r.listener != nil {
			f.Listener = r.listener.Inode
		}
		out = append(out, f)
	}
	return sortFlat(out)
}

// flatReport is what the partitioned report says for one probe.
func flatReport(rep *Report, u unit, src netip.Addr, port int) []flat {
	var out []flat
	for _, e := range rep.Exposures {
		if e.Iface != u.iface || e.Proto != protoLabel(u.proto) || e.Addr != u.addr.String() || port < e.PortFrom || port > e.PortTo || !covers(e.Sources, src) {
			continue
		}
		f := flat{State: e.State, Path: stepIDs(e.Path), Conds: append([]string{}, e.Conditions...), To: []string{}, Listener: e.Listener.Inode}
		for _, t := range e.To {
			p := t.Port
			if t.PortTo > 0 {
				p = t.Port + port - e.PortFrom
			}
			f.To = append(f.To, fmt.Sprintf("%s:%d:%.4f", t.Addr, p, t.Probability))
		}
		out = append(out, f)
	}
	return sortFlat(out)
}

func covers(srcs []string, a netip.Addr) bool {
	for _, s := range srcs {
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}

func sortFlat(fs []flat) []flat {
	slices.SortFunc(fs, func(x, y flat) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	return fs
}

// samplePorts returns every rule boundary and its neighbours, the listened
// ports, the ends, and n random ports.
// allCuts returns the cuts of every rule of the ruleset.
func allCuts(a *analyzer) []*cuts {
	var out []*cuts
	for _, t := range a.rs.Tables {
		for _, ch := range t.Chains {
			ci := a.chain(ch)
			for _, r := range ch.Rules {
				if c, _ := a.ruleCutsOf(ci, r); c != nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

func samplePorts(a *analyzer, r *rand.Rand, n int) []int {
	set := map[int]bool{0: true, 1: true, 65534: true, 65535: true}
	add := func(p int32) {
		for _, q := range []int32{p - 1, p, p + 1} {
			if q >= 0 && q <= 65535 {
				set[int(q)] = true
			}
		}
	}
	for _, c := range allCuts(a) {
		for _, p := range c.ports {
			add(p)
		}
	}
	for _, m := range a.listeners {
		for p := range m {
			add(int32(p))
		}
	}
	for range n {
		set[r.IntN(65536)] = true
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(len(out), 120+n)]
}

// sampleSources returns the rule source boundaries and neighbours of the
// family, plus n random addresses of the probe-source range.
func sampleSources(a *analyzer, v4 bool, r *rand.Rand, n int) []netip.Addr {
	set := map[netip.Addr]bool{}
	for _, c := range allCuts(a) {
		for _, s := range c.srcs {
			if s.Is4() == v4 {
				set[s] = true
				if p := s.Prev(); p.IsValid() {
					set[p] = true
				}
			}
		}
	}
	base := netns.ProbeSources4
	if !v4 {
		base = netns.ProbeSources6
	}
	for range n {
		b := base.Addr().AsSlice()
		b[len(b)-1], b[len(b)-2] = byte(r.IntN(256)), byte(r.IntN(256))
		ad, _ := netip.AddrFromSlice(b)
		set[ad] = true
	}
	var out []netip.Addr
	for s := range set {
		if bad, _ := martian(s, a.env.IsLocal); !bad {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y netip.Addr) int { return x.Compare(y) })
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(len(out), 6+n)]
}

// checkPerPort compares the report with per-probe simulation on the given
// ports and sources; it returns the number of probes compared.
func checkPerPort(t *testing.T, in Input, opt Options, ports func(a *analyzer) []int, srcs func(a *analyzer, v4 bool) []netip.Addr) int {
	t.Helper()
	rep, err := Analyze(in, opt)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := defaults(in, opt)
	units, err := planUnits(full)
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(in, full.SourcePort)
	byUnit := map[string]*Report{}
	for _, e := range rep.Exposures {
		k := e.Iface + "/" + e.Proto + "/" + e.Addr
		if byUnit[k] == nil {
			byUnit[k] = &Report{}
		}
		byUnit[k].Exposures = append(byUnit[k].Exposures, e)
	}
	n := 0
	for _, u := range units {
		ur := byUnit[u.iface+"/"+protoLabel(u.proto)+"/"+u.addr.String()]
		if ur == nil {
			ur = &Report{}
		}
		ps := []int{0}
		if nf.HasPorts(u.proto) {
			ps = ports(a)
		}
		ss := []netip.Addr{u.src.lo}
		if !u.fixed {
			ss = srcs(a, u.addr.Is4())
		}
		for _, s := range ss {
			for _, p := range ps {
				want := flatAnswer(a.eval(u, s, p, nil), p)
				got := flatReport(ur, u, s, p)
				if fmt.Sprint(want) == fmt.Sprint(got) {
					n++
					continue
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("%s %s %s src %s port %d: report differs from per-port simulation (-want +got):\n%s", u.iface, protoLabel(u.proto), u.addr, s, p, d)
				}
				n++
			}
		}
	}
	return n
}

// randomInput generates a lab-shaped ruleset with random listeners.
func randomInput(t *testing.T, seed uint64, family int) (Input, string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	cfg := randrules.DefaultConfig()
	cfg.Family, cfg.Rules = family, 40+r.IntN(80)
	g := randrules.Generate(r, cfg)
	rs, err := iptables.Parse([]byte(g.Text), iptables.Options{File: "rand"})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return Input{Ruleset: rs, Env: labEnv(family), Listeners: randomListeners(r, family)}, g.Text
}

// labEnv is the node of internal/netns.
func labEnv(family int) *nf.Env {
	env := nf.NewEnv()
	for _, l := range netns.Links {
		p := l.Addr4
		if family == 6 {
			p = l.Addr6
		}
		env.Local[p.Addr()] = true
		env.Ifaces = append(env.Ifaces, nf.Iface{Name: l.Name, Addrs: []netip.Prefix{p}, MAC: l.MAC.String()})
		env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: l.Name})
	}
	gw := netip.MustParsePrefix("0.0.0.0/0")
	if family == 6 {
		gw = netip.MustParsePrefix("::/0")
	}
	env.Routes = append(env.Routes, nf.Route{Prefix: gw, Iface: "n1"})
	return env
}

func randomListeners(r *rand.Rand, family int) []Listener {
	var out []Listener
	wild := "0.0.0.0"
	if family == 6 {
		wild = "::"
	}
	for i := range 6 {
		proto := []string{"tcp", "udp", "sctp"}[r.IntN(3)]
		port := []int{22, 80, 443, 8080, 30080, 53, 1 + r.IntN(65535)}[r.IntN(7)]
		addr, w := wild, true
		if r.IntN(2) == 0 {
			l := netns.Links[r.IntN(len(netns.Links))]
			addr, w = l.Addr4.Addr().String(), false
			if family == 6 {
				addr = l.Addr6.Addr().String()
			}
		}
		out = append(out, Listener{Proto: proto, Addr: addr, Port: port, Wildcard: w, Inode: uint64(1000 + i)})
	}
	return out
}

func TestPartitionEqualsPerPortRandom(t *testing.T) {
	total := 0
	for seed := uint64(1); seed <= 60; seed++ {
		family := 4
		if seed%4 == 0 {
			family = 6
		}
		t.Run(fmt.Sprintf("seed%d-ipv%d", seed, family), func(t *testing.T) {
			in, _ := randomInput(t, seed, family)
			r := rand.New(rand.NewPCG(seed, 99))
			opt := Options{Ifaces: []string{"n0", "n2"}}
			total += checkPerPort(t, in, opt,
				func(a *analyzer) []int { return samplePorts(a, r, 64) },
				func(a *analyzer, v4 bool) []netip.Addr { return sampleSources(a, v4, r, 4) })
		})
	}
	t.Logf("%d probes agree with per-port simulation", total)
}

func TestPartitionEqualsEveryPort(t *testing.T) {
	all := make([]int, 65536)
	for i := range all {
		all[i] = i
	}
	total := 0
	for seed := uint64(101); seed <= 104; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			in, _ := randomInput(t, seed, 4)
			opt := Options{Ifaces: []string{"n0"}, Protos: []string{"tcp", "udp"}, Addrs: []netip.Addr{netip.MustParseAddr("198.51.100.1")},
				From: netip.MustParseAddr("198.18.0.7")}
			total += checkPerPort(t, in, opt, func(*analyzer) []int { return all }, nil)
		})
	}
	t.Logf("%d probes (every port) agree with per-port simulation", total)
}

func TestPartitionEqualsPerPortExamples(t *testing.T) {
	for _, name := range []string{"kube-proxy-node", "docker-host", "openshift-ovnk-node"} {
		t.Run(name, func(t *testing.T) {
			in := loadExample(t, name)
			r := rand.New(rand.NewPCG(7, 7))
			n := checkPerPort(t, in, Options{},
				func(a *analyzer) []int { return samplePorts(a, r, 200) },
				func(a *analyzer, v4 bool) []netip.Addr { return sampleSources(a, v4, r, 4) })
			t.Logf("%d probes agree", n)
		})
	}
}
