package randrules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func TestDeterministic(t *testing.T) {
	for _, fam := range []int{4, 6} {
		cfg := DefaultConfig()
		cfg.Family = fam
		x, y := Generate(seeded(7), cfg), Generate(seeded(7), cfg)
		if x.Text != y.Text {
			t.Errorf("family %d: same seed gave different text", fam)
		}
		if fmt.Sprint(x.Probes) != fmt.Sprint(y.Probes) {
			t.Errorf("family %d: same seed gave different probes", fam)
		}
		if z := Generate(seeded(8), cfg); z.Text == x.Text {
			t.Errorf("family %d: seeds 7 and 8 gave the same text", fam)
		}
	}
}

func TestShape(t *testing.T) {
	for seed := range uint64(50) {
		for _, fam := range []int{4, 6} {
			cfg := DefaultConfig()
			cfg.Family = fam
			rs := Generate(seeded(seed), cfg)
			if got := strings.Count(rs.Text, "\n-A "); got != len(rs.Rules) {
				t.Errorf("seed %d family %d: got %d -A lines, want %d", seed, fam, got, len(rs.Rules))
			}
			if got := strings.Count(rs.Text, "COMMIT\n"); got != 5 {
				t.Errorf("seed %d family %d: got %d COMMIT lines, want 5", seed, fam, got)
			}
			if len(rs.Probes) != cfg.Probes {
				t.Errorf("seed %d family %d: got %d probes, want %d", seed, fam, len(rs.Probes), cfg.Probes)
			}
			flows := map[string]bool{}
			for _, p := range rs.Probes {
				if k := flowKey(p.Probe); flows[k] {
					t.Errorf("seed %d: probe %v repeats a flow", seed, p)
				} else {
					flows[k] = true
				}
				if _, err := p.Bytes(); err != nil {
					t.Errorf("seed %d: probe %v: %v", seed, p, err)
				}
				src := netns.ProbeSources4
				if fam == 6 {
					src = netns.ProbeSources6
				}
				if !src.Contains(p.Src) {
					t.Errorf("seed %d: probe %v: source outside %s", seed, p, src)
				}
			}
		}
	}
}

// TestDepth checks that nesting never exceeds MaxDepth and that some ruleset
// reaches it.
func TestDepth(t *testing.T) {
	deepest := 0
	for seed := range uint64(30) {
		cfg := Config{Family: 4, Rules: 80, UserChains: 8, MaxDepth: 6, Features: FeaturesAll}
		g := &gen{r: seeded(seed), cfg: cfg.normalized()}
		g.pl = poolsFor(4)
		for _, tb := range g.cfg.Tables {
			g.addTable(tb)
		}
		g.placeRules()
		for _, c := range g.chains {
			if c.depth > cfg.MaxDepth {
				t.Errorf("seed %d: chain %s depth %d over %d", seed, c.name, c.depth, cfg.MaxDepth)
			}
			for _, rl := range c.rules {
				if j := g.chain(c.table, rl.Jump); j != nil && j.depth <= c.depth {
					t.Errorf("seed %d: %s (depth %d) jumps up to %s (depth %d)", seed, c.name, c.depth, j.name, j.depth)
				}
			}
			deepest = max(deepest, c.depth)
		}
	}
	if deepest != 6 {
		t.Errorf("got deepest chain %d, want 6", deepest)
	}
}

func TestSample(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a sample with -v")
	}
	cfg := DefaultConfig()
	cfg.Probes = 10
	rs := Generate(seeded(1), cfg)
	t.Log("\n" + rs.Text)
	for _, p := range rs.Probes {
		t.Logf("%s  aim %s", p.Probe, p.Aim)
	}
}

// TestCoverage checks that the default configuration, over a few hundred seeds,
// writes every construct the simulator claims to handle.
func TestCoverage(t *testing.T) {
	want := map[int][]string{
		4: {"-m icmp --icmp-type", "-m ttl", "--reject-with icmp-", "--src-type BROADCAST", "--to-destination 10."},
		6: {"-m icmp6 --icmpv6-type", "-m hl", "--reject-with icmp6-", "-p ipv6-icmp", "-p icmpv6", "--to-destination ["},
	}
	common := []string{"-g ", "-j RETURN", "--syn", "--tcp-flags", "-m multiport", "--dports", "--sports", "--ports",
		"--ctstate", "-m state --state", "--src-type", "--dst-type", "--limit-iface-in", "--limit-iface-out",
		"-m mark", "-m connmark", "--comment \"say \\\"hi\\\"\"", "--src-range", "--dst-range", "-m length", "--pkt-type",
		"--mode nth", "-j REJECT", "tcp-reset", "-j LOG", "-j NFLOG", "--set-mark", "--set-xmark", "--and-mark",
		"--or-mark", "--xor-mark", "--save-mark", "--restore-mark", "-j DNAT", "-j SNAT", "-j MASQUERADE",
		"-j REDIRECT", "-j NOTRACK", "-j CT --notrack", "-j TRACE", " DROP [0:0]", "! -i ", "-i n+", "! -o ",
		"! -s ", "! -d ", "! -p ", "--sport", "--dport", "! --dport", "-p sctp", "-p 47", "-p all", "--random"}
	for _, fam := range []int{4, 6} {
		var all strings.Builder
		for seed := range uint64(300) {
			cfg := DefaultConfig()
			cfg.Family = fam
			all.WriteString(Generate(seeded(seed), cfg).Text)
		}
		text := all.String()
		for _, s := range append(common, want[fam]...) {
			if !strings.Contains(text, s) {
				t.Errorf("family %d: no ruleset of 300 contains %q", fam, s)
			}
		}
	}
}
