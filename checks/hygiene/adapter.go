package hygiene

import (
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Native marks a table written with nft or netlink (kube-proxy's nftables
// mode, firewalld's nftables backend, OVN-Kubernetes), which the iptables
// backends check and the admin-rules check leave aside.
const Native Backend = "nftables"

// FromRuleset adapts the project's ruleset model (netfilter.Ruleset, as the
// iptables and nftables front-ends produce it) to the Snapshot the hygiene
// checks read. An iptables rule the front-end expanded into several (one per
// address of "-s a,b") appears once, with iptables' numbering.
func FromRuleset(rs *nf.Ruleset) Snapshot {
	var s Snapshot
	if rs == nil {
		return s
	}
	for _, t := range rs.Tables {
		s.Tables = append(s.Tables, fromTable(t))
	}
	return s
}

func fromTable(t *nf.Table) Table {
	out := Table{Family: familyName(t.Family), Name: t.Name, Backend: backendName(t.Backend)}
	for _, c := range t.Chains {
		out.Chains = append(out.Chains, c.Name)
		prev, n := "", 0
		for _, r := range c.Rules {
			if r.Text == prev && r.Text != "" {
				continue
			}
			prev, n = r.Text, n+1
			out.Rules = append(out.Rules, Rule{Table: t.Name, Chain: c.Name, Index: n, Text: stripCounters(r.Text), Target: r.Target()})
		}
	}
	return out
}

func familyName(f nf.Family) string {
	switch f {
	case nf.FamilyIPv4:
		return "ipv4"
	case nf.FamilyIPv6:
		return "ipv6"
	}
	return string(f)
}

func backendName(b nf.Backend) Backend {
	switch b {
	case nf.BackendLegacy:
		return Legacy
	case nf.BackendIptablesNft:
		return NFT
	case nf.BackendNft:
		return Native
	}
	return ""
}

// stripCounters drops the "[packets:bytes] " prefix iptables-save -c puts
// before each rule, so rule text reads as iptables -S prints it.
func stripCounters(text string) string {
	if strings.HasPrefix(text, "[") {
		if _, rest, ok := strings.Cut(text, "] "); ok {
			return rest
		}
	}
	return text
}
