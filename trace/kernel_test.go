package trace_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/exposure-audit/exposure/internal/gen/randrules"
	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// kernelSeeds is how many random rulesets per family and backend the
// differential test runs (EXPOSURE_KERNEL_SEEDS overrides).
func kernelSeeds() int { return netns.Seeds(12) }

// labEnv describes the lab's node to the simulator.
func labEnv(lab *netns.Lab) *nf.Env { return lab.Env() }

// probeInput turns a lab probe into the simulator's input.
func probeInput(p netns.Probe) trace.Input { return p.Input() }

// counterKey names a rule ("filter/INPUT#3") or a policy ("filter/INPUT#P").
type counterKey string

func ruleKey(table, chain string, i int) counterKey {
	return counterKey(fmt.Sprintf("%s/%s#%d", table, chain, i))
}

func policyKey(table, chain string) counterKey { return counterKey(table + "/" + chain + "#P") }

// kernelCounts reads which rules and policies counted the probe.
func kernelCounts(t *testing.T, lab *netns.Lab, b netns.Backend, v6 bool) map[counterKey]uint64 {
	t.Helper()
	text, err := lab.SaveIptables(b, v6)
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	rs, err := iptables.Parse([]byte(text), iptables.Options{File: "kernel"})
	if err != nil {
		t.Fatalf("parse kernel counters: %v", err)
	}
	out := map[counterKey]uint64{}
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			if c.Base != nil && c.Counters().Packets > 0 {
				out[policyKey(tb.Name, c.Name)] = c.Counters().Packets
			}
			for _, r := range c.Rules {
				if r.Counters().Packets > 0 {
					out[ruleKey(tb.Name, c.Name, r.Index())] = r.Counters().Packets
				}
			}
		}
	}
	return out
}

func pathCounts(o trace.Outcome) map[counterKey]uint64 {
	out := map[counterKey]uint64{}
	for _, s := range o.Path {
		if s.Policy {
			out[policyKey(s.Table, s.Chain)]++
		} else {
			out[ruleKey(s.Table, s.Chain, s.Rule)]++
		}
	}
	return out
}

func keys(m map[counterKey]uint64) string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// TestKernelDifferential loads random rulesets into a real network
// namespace with both iptables backends, sends each generated probe as a
// real packet, and requires the kernel's per-rule and per-policy counters
// to equal the path of one of the simulator's outcomes (the one the
// kernel's random or counter-driven choices took).
func TestKernelDifferential(t *testing.T) {
	lab := netns.New(t)
	env := labEnv(lab)
	agree, total := 0, 0
	for _, fam := range []int{4, 6} {
		for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
			for seed := range kernelSeeds() {
				cfg := randrules.DefaultConfig()
				cfg.Family = fam
				cfg.Rules = 20 + seed*7%80
				cfg.UserChains = seed % 6
				cfg.Probes = 25
				cfg.Features = randrules.FeaturesAll &^ randrules.FeatNth
				gen := randrules.Generate(rand.New(rand.NewPCG(uint64(seed), uint64(fam))), cfg)
				name := fmt.Sprintf("v%d/%s/seed%d", fam, b, seed)
				a, n := runDifferential(t, lab, env, b, gen, name)
				agree, total = agree+a, total+n
			}
		}
	}
	t.Logf("kernel agreement: %d/%d probes", agree, total)
}

func runDifferential(t *testing.T, lab *netns.Lab, env *nf.Env, b netns.Backend, gen *randrules.Ruleset, name string) (int, int) {
	t.Helper()
	return differential(t, lab, env, b, gen.Family == 6, gen.Text, gen.Probes, name)
}

// differential loads text into the lab with backend b, sends every probe,
// and compares the kernel's counters with the simulator's paths.
func differential(t *testing.T, lab *netns.Lab, env *nf.Env, b netns.Backend, v6 bool, text string, probes []randrules.Probe, name string) (int, int) {
	t.Helper()
	if err := lab.Reset(); err != nil {
		t.Fatalf("%s: reset: %v", name, err)
	}
	if err := lab.RestoreIptables(b, v6, text); err != nil {
		t.Fatalf("%s: restore: %v", name, err)
	}
	backend := nf.BackendLegacy
	if b == netns.NFT {
		backend = nf.BackendIptablesNft
	}
	rs, err := iptables.Parse([]byte(text), iptables.Options{File: name, Backend: backend})
	if err != nil {
		t.Fatalf("%s: parse: %v", name, err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("%s: validate: %v", name, err)
	}
	sim := trace.New(rs, env)
	loaded := map[string]bool{}
	for _, tb := range rs.Tables {
		loaded[tb.Name] = true
	}
	quietNeighbours(t, lab, rs)
	agree := 0
	for i, p := range probes {
		p.Probe = wellFormed(p.Probe)
		if err := lab.FlushConntrack(); err != nil {
			t.Fatal(err)
		}
		if err := lab.ZeroCounters(b, v6); err != nil {
			t.Fatal(err)
		}
		// A locally generated packet that OUTPUT drops makes sendto fail
		// with EPERM: the kernel did see it.
		if err := lab.Inject(p.Probe); err != nil && !(p.FromNode && errors.Is(err, syscall.EPERM)) {
			t.Fatalf("%s probe %d: inject: %v", name, i, err)
		}
		got := onlyTables(kernelCounts(t, lab, b, v6), loaded)
		res, err := sim.Trace(probeInput(p.Probe))
		if err != nil {
			t.Fatalf("%s probe %d: trace: %v", name, i, err)
		}
		if matchesOne(got, res) {
			agree++
			continue
		}
		want := []string{}
		for _, o := range res.Outcomes {
			want = append(want, keys(pathCounts(o)))
		}
		t.Errorf("%s probe %d (%s, aimed %s):\nkernel:    %s\nsimulated: %s\nruleset:\n%s", name, i, p.Probe, p.Aim, keys(got), strings.Join(want, "\n   or      "), text)
	}
	return agree, len(probes)
}

func matchesOne(got map[counterKey]uint64, res trace.Result) bool {
	for _, o := range res.Outcomes {
		if keys(pathCounts(o)) == keys(got) {
			return true
		}
	}
	return false
}

// wellFormed repairs probes that only a packet crafter makes and the
// simulator's packet model does not describe: a GRE packet needs its
// header (NAT's GRE handler drops a packet shorter than 8 bytes of GRE,
// nf_nat_proto.c gre_manip_pkt), and an SCTP packet padded with zeros
// after its INIT chunk carries a zero-length chunk, which conntrack calls
// INVALID (nf_conntrack_proto_sctp.c do_basic_checks).
func wellFormed(p netns.Probe) netns.Probe {
	if p.Proto == nf.ProtoGRE && len(p.Payload) < 8 {
		p.Payload = make([]byte, 8)
	}
	if p.Proto == nf.ProtoSCTP {
		p.Length = 0
	}
	return p
}

// onlyTables keeps the counters of the tables the test loaded: legacy
// tables of an earlier load stay registered (empty, ACCEPT) and count.
func onlyTables(m map[counterKey]uint64, tables map[string]bool) map[counterKey]uint64 {
	out := map[counterKey]uint64{}
	for k, v := range m {
		if table, _, _ := strings.Cut(string(k), "/"); tables[table] {
			out[k] = v
		}
	}
	return out
}

// quietNeighbours gives every NAT target address on one of the node's
// subnets a permanent neighbour entry (the peer's MAC), so a forwarded
// packet never waits for ARP and the node never sends a delayed "host
// unreachable" to a masqueraded (local) source, which would move OUTPUT
// counters during a later probe.
func quietNeighbours(t *testing.T, lab *netns.Lab, rs *nf.Ruleset) {
	t.Helper()
	seen := map[netip.Addr]bool{}
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				for _, e := range r.Exprs {
					if n, ok := e.(*nf.NATStmt); ok && n.AddrLo().IsValid() && !seen[n.AddrLo()] {
						seen[n.AddrLo()] = true
						addNeighbour(t, lab, n.AddrLo())
					}
				}
			}
		}
	}
}

func addNeighbour(t *testing.T, lab *netns.Lab, a netip.Addr) {
	for _, k := range lab.Links {
		for _, p := range []netip.Prefix{k.Addr4, k.Addr6} {
			if p.Masked().Contains(a) && p.Addr() != a {
				if _, err := lab.Run(lab.NodeNS, "", "ip", "neigh", "replace", a.String(), "lladdr", k.PeerMAC.String(), "nud", "permanent", "dev", k.Name); err != nil {
					t.Fatalf("neighbour %s: %v", a, err)
				}
			}
		}
	}
}
