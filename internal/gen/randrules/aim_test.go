package randrules

import (
	"fmt"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
)

// TestAimHitRate measures, with the kernel, how often an aimed probe moves the
// counter of the rule it was aimed at. Earlier verdicts, policies and unsteerable
// matches (marks, conntrack states, nth) make some miss; most should hit.
func TestAimHitRate(t *testing.T) {
	if testing.Short() {
		t.Skip("long kernel test; skipped with -short")
	}
	lab := netns.New(t)
	for _, fam := range []int{4, 6} {
		aimed, hit, deep := 0, 0, 0
		for i := range 25 {
			cfg := DefaultConfig()
			cfg.Family, cfg.Probes, cfg.AimedShare = fam, 20, 1
			rs := Generate(seeded(uint64(1000+i)), cfg)
			if err := lab.Reset(); err != nil {
				t.Fatal(err)
			}
			if err := lab.RestoreIptables(netns.NFT, fam == 6, rs.Text); err != nil {
				t.Fatal(err)
			}
			before, err := counters(lab, fam)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range rs.Probes {
				if err := lab.Inject(p.Probe); err != nil {
					t.Fatal(err)
				}
				after, err := counters(lab, fam)
				if err != nil {
					t.Fatal(err)
				}
				aimed++
				if after[p.Aim] > before[p.Aim] {
					hit++
					if len(p.Path) >= 3 {
						deep++
					}
				}
				before = after
			}
		}
		t.Logf("IPv%d: %d of %d aimed probes moved their rule's counter (%.0f%%), %d of them two or more jumps deep",
			fam, hit, aimed, 100*float64(hit)/float64(aimed), deep)
		if hit*4 < aimed {
			t.Errorf("IPv%d: got %d hits of %d aimed probes, want at least a quarter", fam, hit, aimed)
		}
	}
}

// counters returns "table/chain#index" → packets for every rule of the node.
func counters(lab *netns.Lab, fam int) (map[string]uint64, error) {
	save, err := lab.SaveIptables(netns.NFT, fam == 6)
	if err != nil {
		return nil, err
	}
	cs, err := netns.ParseSaveCounters(save)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, c := range cs { // policies are "#0"
		out[fmt.Sprintf("%s/%s#%d", c.Table, c.Chain, c.Rule)] = c.Packets
	}
	return out, nil
}
