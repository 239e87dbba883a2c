package nftables

import (
	"strings"
	"testing"
)

// TestRejectReplies: nft's reject replies take iptables' spellings where
// iptables has one; an unknown code is kept as an ICMP error, with a warning.
func TestRejectReplies(t *testing.T) {
	cases := []struct{ family, with, want, warning string }{
		{"ip", "", "REJECT --reject-with icmp-port-unreachable", ""},
		{"ip6", "with icmpv6 type admin-prohibited", "REJECT --reject-with icmp6-adm-prohibited", ""},
		{"ip", "with icmp type prot-unreachable", "REJECT --reject-with icmp-proto-unreachable", ""},
		{"inet", "with icmpx type admin-prohibited", "REJECT --reject-with icmpx-admin-prohibited", ""},
		{"inet", "with tcp reset", "REJECT --reject-with tcp-reset", ""},
		{"ip", "with icmp type 13", "REJECT --reject-with unknown", `reject reply "icmp-13" is not known`},
	}
	for _, c := range cases {
		in := "table " + c.family + " t {\n\tchain c {\n\t\treject " + c.with + "\n\t}\n}\n"
		rs, err := ParseText([]byte(in), "in.nft")
		if err != nil {
			t.Fatalf("reject %s: %v", c.with, err)
		}
		if got := rs.Tables[0].Chains[0].Rules[0].Exprs[0].String(); got != c.want {
			t.Errorf("%s reject %s: got %q, want %q", c.family, c.with, got, c.want)
		}
		warned := len(rs.Warnings) == 1 && strings.Contains(rs.Warnings[0].Message, c.warning)
		if c.warning == "" && len(rs.Warnings) != 0 || c.warning != "" && !warned {
			t.Errorf("%s reject %s: warnings %v, want %q", c.family, c.with, rs.Warnings, c.warning)
		}
	}
}
