package exposure

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// TestRuleProtos checks which rules are known never to match the other
// protocols: only when nothing with an effect or an assumption comes
// before the protocol test.
func TestRuleProtos(t *testing.T) {
	for _, tc := range []struct {
		name string
		nft  bool
		rule string
		want []uint8
	}{
		{"protocol first", false, "-A X -p tcp -m tcp --dport 80 -j ACCEPT", []uint8{nf.ProtoTCP}},
		{"after an address and a comment", false, `-A X -d 10.0.0.1/32 -m comment --comment "svc" -p udp -m udp --dport 53 -j ACCEPT`, []uint8{nf.ProtoUDP}},
		// iptables tests -p with the IP header, before any match.
		{"a random choice written first", false, "-A X -m statistic --mode random --probability 0.5 -p tcp -j ACCEPT", []uint8{nf.ProtoTCP}},
		{"negated protocol", false, "-A X ! -p tcp -j ACCEPT", nil},
		{"no protocol test", false, "-A X -d 10.0.0.1/32 -j ACCEPT", nil},
		{"nft protocol first", true, "ip protocol tcp counter accept", []uint8{nf.ProtoTCP}},
		{"nft mark set before the protocol", true, "meta mark set 1 ip protocol tcp accept", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs *nf.Ruleset
			var err error
			if tc.nft {
				rs, err = nftables.ParseText([]byte("table ip t {\n\tchain X {\n\t\t"+tc.rule+"\n\t}\n}\n"), "t")
			} else {
				rs, err = iptables.Parse([]byte("*filter\n:X - [0:0]\n"+tc.rule+"\nCOMMIT\n"), iptables.Options{File: "t"})
			}
			if err != nil {
				t.Fatal(err)
			}
			var ch *nf.Chain
			for _, c := range rs.Tables[0].Chains {
				if c.Name == "X" {
					ch = c
				}
			}
			if ch == nil || len(ch.Rules) != 1 {
				t.Fatalf("no chain X with one rule in %v", rs.Tables[0].Chains)
			}
			got := ruleProtos(ch.Rules[0].Exprs)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("protocols (-want +got):\n%s", d)
			}
			c := ruleCuts(ch.Rules[0], nil)
			for _, p := range []uint8{nf.ProtoTCP, nf.ProtoUDP, nf.ProtoSCTP} {
				never := tc.want != nil && !containsProto(tc.want, p)
				if c.never(p) != never {
					t.Errorf("never(%d) = %t, want %t", p, c.never(p), never)
				}
			}
		})
	}
}

func containsProto(ps []uint8, p uint8) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}
