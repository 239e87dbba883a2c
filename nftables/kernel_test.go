package nftables

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/internal/netns"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// kernelSeeds is how many random rulesets the differential test loads
// (EXPOSURE_KERNEL_SEEDS overrides).
func kernelSeeds() int { return netns.Seeds(16) }

// labEnv describes the lab's node to the simulator.
func labEnv(lab *netns.Lab) *nf.Env { return lab.Env() }

// probeInput turns a lab probe into the simulator's input.
func probeInput(p netns.Probe) trace.Input { return p.Input() }

// ruleKey names a rule by family, table, chain and 1-based index.
func ruleKey(t *nf.Table, chain string, i int) string {
	return fmt.Sprintf("%s/%s/%s#%d", t.Family, t.Name, chain, i)
}

// counted returns the packet counters of every nft rule carrying a counter.
func counted(rs *nf.Ruleset) map[string]uint64 {
	out := map[string]uint64{}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if r.Counters().Known {
					out[ruleKey(t, c.Name, r.Index())] = r.Counters().Packets
				}
			}
		}
	}
	return out
}

// delta returns the counters that moved between two readings.
func delta(before, after map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// pathCounts counts the rules of an outcome's path that carry a counter.
func pathCounts(o trace.Outcome, withCounter map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for _, s := range o.Path {
		k := fmt.Sprintf("%s/%s/%s#%d", s.Family, s.Table, s.Chain, s.Rule)
		if _, ok := withCounter[k]; ok && !s.Policy {
			out[k]++
		}
	}
	return out
}

func render(m map[string]uint64) string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// readKernel parses the node's ruleset as the kernel holds it now.
func readKernel(t *testing.T, lab *netns.Lab) *nf.Ruleset {
	t.Helper()
	text, err := lab.ListNftJSON()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	rs, err := ParseJSON([]byte(text), "kernel")
	if err != nil {
		t.Fatalf("parse kernel JSON: %v", err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("validate kernel JSON: %v", err)
	}
	return rs
}

// differ injects each probe and requires the rules whose counters moved
// to be exactly the counted rules on the path of one simulated outcome
// (the one the kernel's random draw took). The simulator runs on the
// ruleset read back from the kernel just before the probe, merged with
// extra (iptables-legacy tables, whose counters count is read too).
type differ struct {
	t     *testing.T
	lab   *netns.Lab
	env   *nf.Env
	name  string
	extra func() (*nf.Ruleset, map[string]uint64)
	// dropIptablesNft sets aside the iptables-nft tables of the JSON (extra
	// reads them from iptables-nft-save).
	dropIptablesNft bool
	agree           int
	total           int
}

func (d *differ) probe(i int, p netns.Probe) {
	d.t.Helper()
	if err := d.lab.FlushConntrack(); err != nil {
		d.t.Fatal(err)
	}
	rs := readKernel(d.t, d.lab)
	if d.dropIptablesNft {
		rs = withoutIptablesNft(rs)
	}
	before := counted(rs)
	var extraBefore map[string]uint64
	if d.extra != nil {
		var legacy *nf.Ruleset
		legacy, extraBefore = d.extra()
		rs = merge(legacy, rs)
	}
	if err := d.lab.Inject(p); err != nil && !(p.FromNode && errors.Is(err, syscall.EPERM)) {
		d.t.Fatalf("%s probe %d: inject: %v", d.name, i, err)
	}
	now := readKernel(d.t, d.lab)
	if d.dropIptablesNft {
		now = withoutIptablesNft(now)
	}
	got := delta(before, counted(now))
	withCounter := before
	if d.extra != nil {
		_, after := d.extra()
		for k, v := range delta(extraBefore, after) {
			got[k] = v
		}
		withCounter = union(before, extraBefore)
	}
	d.check(i, p, rs, got, withCounter)
}

func (d *differ) check(i int, p netns.Probe, rs *nf.Ruleset, got, withCounter map[string]uint64) {
	d.t.Helper()
	res, err := trace.New(rs, d.env).Trace(probeInput(p))
	if err != nil {
		d.t.Fatalf("%s probe %d: trace: %v", d.name, i, err)
	}
	d.total++
	var want []string
	for _, o := range res.Outcomes {
		w := render(pathCounts(o, withCounter))
		if w == render(got) {
			if os.Getenv("NFT_DEBUG") != "" {
				d.t.Logf("%s probe %d (%s): %s [%d outcomes]", d.name, i, p, w, len(res.Outcomes))
			}
			d.agree++
			return
		}
		want = append(want, w)
	}
	d.t.Errorf("%s probe %d (%s):\nkernel:    %s\nsimulated: %s", d.name, i, p, render(got), strings.Join(want, "\n   or      "))
}

func union(a, b map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// merge puts the tables of a (registered first) and b into one ruleset.
func merge(a, b *nf.Ruleset) *nf.Ruleset {
	out := &nf.Ruleset{}
	for _, rs := range []*nf.Ruleset{a, b} {
		for _, t := range rs.Tables {
			t.Seq = len(out.Tables) + 1
			out.Tables = append(out.Tables, t)
		}
	}
	return out
}

// TestKernelRandom loads random nftables rulesets into a real network
// namespace, sends real packets, and compares per-rule counters with the
// simulated paths. It also checks that the text parser reads the
// generated script into the same model as the JSON the kernel lists.
func TestKernelRandom(t *testing.T) {
	lab := netns.New(t)
	d := &differ{t: t, lab: lab, env: labEnv(lab)}
	from := 0
	if s := os.Getenv("EXPOSURE_KERNEL_SEED_FROM"); s != "" {
		fmt.Sscan(s, &from)
	}
	for seed := from; seed < from+kernelSeeds(); seed++ {
		g := &randNft{r: rand.New(rand.NewPCG(uint64(seed), 0x6e6674))}
		text := g.generate()
		d.name = fmt.Sprintf("seed%d", seed)
		if err := lab.Reset(); err != nil {
			t.Fatal(err)
		}
		if err := lab.LoadNft(text); err != nil {
			t.Fatalf("%s: %v\n%s", d.name, err, text)
		}
		compareWithKernel(t, d.name, text, readKernel(t, lab))
		guardReplies(t, lab)
		for i, p := range g.probes(30) {
			d.probe(i, p)
		}
		if t.Failed() {
			t.Logf("%s ruleset:\n%s", d.name, text)
			break
		}
	}
	t.Logf("kernel agreement: %d/%d probes", d.agree, d.total)
}

// compareWithKernel parses the script with ParseText and requires the
// same model (rule texts aside) as the kernel's JSON listing of it.
func compareWithKernel(t *testing.T, name, text string, kernel *nf.Ruleset) {
	t.Helper()
	mine, err := ParseText([]byte(text), name)
	if err != nil {
		t.Fatalf("%s: ParseText: %v", name, err)
	}
	if err := nf.Validate(mine); err != nil {
		t.Fatalf("%s: validate: %v", name, err)
	}
	if diff := cmp.Diff(summary(kernel, false), summary(mine, false)); diff != "" {
		t.Errorf("%s: ParseText and the kernel's JSON differ (-kernel +text):\n%s", name, diff)
	}
}

// replyGuard drops, first thing on OUTPUT, whatever the node itself sends
// (its replies to probes: RSTs, echo replies, ICMP errors), keeping only
// probes injected from the node, whose sources are always in the probe
// ranges. IPv4 cannot route to the probe sources, but an IPv6 unreachable
// route still gives a reply a route whose output discards it after the
// OUTPUT hook (ip6_pkt_discard_out), and a reply to a source that a rule
// SNATed on INPUT goes to a reachable address: without the guard such
// replies move OUTPUT counters.
var replyGuard = fmt.Sprintf(`table inet zreplyguard {
	chain out {
		type filter hook output priority -1000; policy accept;
		meta nfproto ipv4 ip saddr != %s drop
		meta nfproto ipv6 ip6 saddr != %s drop
	}
}
`, netns.ProbeSources4, netns.ProbeSources6)

func guardReplies(t *testing.T, lab *netns.Lab) {
	t.Helper()
	if err := lab.LoadNft(replyGuard); err != nil {
		t.Fatal(err)
	}
}

// withoutIptablesNft returns the ruleset without its iptables-nft tables.
func withoutIptablesNft(rs *nf.Ruleset) *nf.Ruleset {
	out := &nf.Ruleset{Warnings: rs.Warnings}
	for _, t := range rs.Tables {
		if t.Backend != nf.BackendIptablesNft {
			out.Tables = append(out.Tables, t)
		}
	}
	return out
}
