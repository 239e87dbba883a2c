package hygiene

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

func TestFromRuleset(t *testing.T) {
	filter := nf.NewTable(nf.FamilyIPv4, "filter", nf.BackendIptablesNft)
	in := filter.AddChain(&nf.Chain{Name: "INPUT"})
	rule := func(text, target string) *nf.Rule {
		r := &nf.Rule{Text: text}
		r.SetTarget(target)
		return r
	}
	in.AddRule(rule("-A INPUT -s 192.0.2.1,192.0.2.2 -j DROP", "DROP"))
	in.AddRule(rule("-A INPUT -s 192.0.2.1,192.0.2.2 -j DROP", "DROP"))
	in.AddRule(rule("[12:720] -A INPUT -j KUBE-FIREWALL", "KUBE-FIREWALL"))
	filter.AddChain(&nf.Chain{Name: "KUBE-FIREWALL"})
	kp := nf.NewTable(nf.FamilyIPv6, "kube-proxy", nf.BackendNft)
	kp.AddChain(&nf.Chain{Name: "services"})
	legacy := nf.NewTable(nf.FamilyIPv4, "nat", nf.BackendLegacy)
	got := FromRuleset(&nf.Ruleset{Tables: []*nf.Table{filter, kp, legacy}})
	want := Snapshot{Tables: []Table{
		{Family: "ipv4", Name: "filter", Backend: NFT, Chains: []string{"INPUT", "KUBE-FIREWALL"}, Rules: []Rule{
			{Table: "filter", Chain: "INPUT", Index: 1, Text: "-A INPUT -s 192.0.2.1,192.0.2.2 -j DROP", Target: "DROP"},
			{Table: "filter", Chain: "INPUT", Index: 2, Text: "-A INPUT -j KUBE-FIREWALL", Target: "KUBE-FIREWALL"},
		}},
		{Family: "ipv6", Name: "kube-proxy", Backend: Native, Chains: []string{"services"}},
		{Family: "ipv4", Name: "nat", Backend: Legacy},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromRuleset (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Snapshot{}, FromRuleset(nil)); diff != "" {
		t.Errorf("FromRuleset(nil) (-want +got):\n%s", diff)
	}
}
