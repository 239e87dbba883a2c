package randrules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

// TestBackendsAgree loads each generated ruleset with iptables-legacy in one lab
// and iptables-nft in another, sends the same probes to both and compares every
// rule and policy counter. The kernel must agree with itself: a difference means
// the generator wrote something whose meaning depends on the backend, which the
// simulator could not get right for both. One difference is real and known
// (netns TestSecurityTablePriority: iptables-nft hooks security after nat
// INPUT, legacy before), so no ruleset here holds both nat and security.
func TestBackendsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("long kernel test; skipped with -short")
	}
	legacy, nft := netns.New(t), netns.New(t)
	for _, fam := range []int{4, 6} {
		for i := range 40 {
			cfg := DefaultConfig()
			cfg.Family, cfg.Probes = fam, 30
			cfg.Tables = []string{"raw", "mangle", "nat", "filter"}
			if i%2 == 1 {
				cfg.Tables = []string{"raw", "mangle", "filter", "security"}
			}
			rs := Generate(seeded(uint64(5000+i)), cfg)
			got := map[netns.Backend]map[string]uint64{}
			for b, lab := range map[netns.Backend]*netns.Lab{netns.Legacy: legacy, netns.NFT: nft} {
				c, err := runAll(lab, b, rs)
				if err != nil {
					t.Fatalf("v%d seed %d %s: %v", fam, i, b, err)
				}
				got[b] = c
			}
			for k, v := range got[netns.Legacy] {
				// Legacy tables outlive Reset (emptied); compare the ruleset's tables only.
				if !slices.Contains(cfg.Tables, strings.Split(k, "/")[0]) {
					continue
				}
				if got[netns.NFT][k] != v {
					t.Errorf("v%d seed %d: %s: legacy counted %d, nft %d\n%s", fam, i, k, v, got[netns.NFT][k], ruleText(rs, k))
				}
			}
		}
	}
}

// runAll resets lab, loads rs with backend b, injects every probe and returns the counters.
func runAll(lab *netns.Lab, b netns.Backend, rs *Ruleset) (map[string]uint64, error) {
	if err := lab.Reset(); err != nil {
		return nil, err
	}
	if err := lab.RestoreIptables(b, rs.Family == 6, rs.Text); err != nil {
		return nil, err
	}
	var ps []netns.Probe
	for _, p := range rs.Probes {
		ps = append(ps, p.Probe)
	}
	if err := lab.InjectN(ps); err != nil {
		return nil, err
	}
	cs, err := lab.Counters(b, rs.Family == 6)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, c := range cs {
		out[fmt.Sprintf("%s/%s#%d", c.Table, c.Chain, c.Rule)] = c.Packets
	}
	return out, nil
}

// ruleText returns the generated text of the rule with key k, for messages.
func ruleText(rs *Ruleset, k string) string {
	for _, r := range rs.Rules {
		if r.key() == k {
			return r.Text
		}
	}
	return "(policy)"
}
