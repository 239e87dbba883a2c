package randrules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

// countAll is a ruleset with one match-all counter rule per built-in chain and a
// conntrack user (so that nat chains run).
func countAll() string {
	var sb strings.Builder
	for _, t := range allTables {
		fmt.Fprintf(&sb, "*%s\n", t)
		for _, c := range netns.BuiltinChains[t] {
			fmt.Fprintf(&sb, ":%s ACCEPT [0:0]\n-A %s\n", c, c)
		}
		if t == "filter" {
			sb.WriteString(":CT - [0:0]\n-A CT -m conntrack --ctstate INVALID\n")
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String()
}

// TestProbesAreQuiet sends generated probes through a count-everything ruleset
// and checks that each moves every chain at most once and that nothing answers:
// a probe from the wire never reaches OUTPUT, one from the node to a remote
// address never reaches INPUT.
func TestProbesAreQuiet(t *testing.T) {
	if testing.Short() {
		t.Skip("long kernel test; skipped with -short")
	}
	lab := netns.New(t)
	for _, fam := range []int{4, 6} {
		v6 := fam == 6
		if err := lab.RestoreIptables(netns.NFT, v6, countAll()); err != nil {
			t.Fatal(err)
		}
		before, err := lab.Counters(netns.NFT, v6)
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(10) {
			cfg := DefaultConfig()
			cfg.Family, cfg.Probes = fam, 20
			for _, p := range Generate(seeded(seed), cfg).Probes {
				before = checkQuiet(t, lab, v6, p, before)
			}
		}
	}
}

// checkQuiet injects p, checks the counters it moved (against before) and
// returns the counters after it.
func checkQuiet(t *testing.T, lab *netns.Lab, v6 bool, p Probe, before []netns.Counter) []netns.Counter {
	t.Helper()
	if err := lab.Inject(p.Probe); err != nil {
		t.Fatal(err)
	}
	cs, err := lab.Counters(netns.NFT, v6)
	if err != nil {
		t.Fatal(err)
	}
	local := false
	for _, a := range netns.NodeAddrs(map[bool]int{false: 4, true: 6}[v6]) {
		local = local || a == p.Dst
	}
	for i, c := range cs {
		c.Packets -= before[i].Packets
		switch {
		case c.Rule == 0 || c.Packets == 0:
		case c.Packets > 1:
			t.Errorf("probe %v: %s/%s counted %d, want at most 1", p.Probe, c.Table, c.Chain, c.Packets)
		case !p.FromNode && c.Chain == "OUTPUT":
			t.Errorf("probe %v: %s/OUTPUT moved: something answered", p.Probe, c.Table)
		case p.FromNode && !local && !p.Dst.IsLoopback() && c.Chain == "INPUT":
			t.Errorf("probe %v: %s/INPUT moved: something answered", p.Probe, c.Table)
		}
	}
	return cs
}
