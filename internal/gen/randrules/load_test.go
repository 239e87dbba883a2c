package randrules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

// sweep returns the configuration for seed i: sizes, depths and feature sets vary.
func sweep(i int, family int) Config {
	cfg := DefaultConfig()
	cfg.Family = family
	cfg.Rules = 10 + (i*37)%150
	cfg.UserChains = i % 9
	cfg.MaxDepth = 1 + i%6
	cfg.Probes = 20
	switch i % 5 {
	case 1:
		cfg.Features = FeatProto | FeatAddr | FeatPorts | FeatGoto
	case 2:
		cfg.Features = FeaturesAll &^ (FeatNAT | FeatConntrack)
	case 3:
		cfg.Tables = []string{"filter", "nat"}
	}
	return cfg
}

// TestLoadBothBackends loads 200 generated rulesets per family with
// iptables-legacy-restore and iptables-nft-restore, checks that every rule is
// there when saved back, and that every probe can be injected.
func TestLoadBothBackends(t *testing.T) {
	for _, fam := range []int{4, 6} {
		t.Run(fmt.Sprintf("v%d", fam), func(t *testing.T) {
			t.Parallel()
			lab := netns.New(t)
			for i := range 200 {
				loadOne(t, lab, fam, i)
			}
		})
	}
}

// loadOne generates ruleset i of the sweep, loads it with both backends and
// injects its probes.
func loadOne(t *testing.T, lab *netns.Lab, fam, i int) {
	t.Helper()
	rs := Generate(seeded(uint64(i)), sweep(i, fam))
	for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
		if err := loadAndCount(lab, b, rs); err != nil {
			t.Errorf("%s seed %d: %v", b, i, err)
		}
	}
	var ps []netns.Probe
	for _, p := range rs.Probes {
		ps = append(ps, p.Probe)
	}
	if err := lab.InjectN(ps); err != nil {
		t.Errorf("seed %d: %v", i, err)
	}
}

// loadAndCount restores rs and compares, table by table, the saved rule count
// with the generated one (tables rs does not name may hold an earlier ruleset).
func loadAndCount(lab *netns.Lab, b netns.Backend, rs *Ruleset) error {
	v6 := rs.Family == 6
	if err := lab.RestoreIptables(b, v6, rs.Text); err != nil {
		return fmt.Errorf("%w%s", err, quoteLines(err.Error(), rs.Text))
	}
	save, err := lab.SaveIptables(b, v6)
	if err != nil {
		return err
	}
	got, want := rulesPerTable(save), rulesPerTable(rs.Text)
	for t, n := range want {
		if got[t] != n {
			return fmt.Errorf("table %s: got %d rules back, want %d", t, got[t], n)
		}
	}
	return nil
}

// rulesPerTable counts the -A lines of each table of a save or restore text.
func rulesPerTable(text string) map[string]int {
	out, table := map[string]int{}, ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			out[table] += 0
		case strings.Contains(line, "-A "):
			out[table]++
		}
	}
	return out
}

// quoteLines appends the restore input lines an error message names ("line N:").
func quoteLines(msg, text string) string {
	lines := strings.Split(text, "\n")
	var out strings.Builder
	for _, f := range strings.Split(msg, "line ")[1:] {
		var n int
		if _, err := fmt.Sscanf(f, "%d", &n); err == nil && n >= 1 && n <= len(lines) {
			fmt.Fprintf(&out, "\n\tline %d: %s", n, lines[n-1])
		}
	}
	return out.String()
}
