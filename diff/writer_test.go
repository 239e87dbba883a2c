package diff

import (
	"testing"

	nf "github.com/exposure-audit/exposure/netfilter"
)

func TestRuleWriter(t *testing.T) {
	tests := []struct {
		name, dump, table, chain string
		want                     Writer
	}{
		{"docker chain", filterHead + ":DOCKER - [0:0]\n-A DOCKER -d 172.17.0.2/32 -j ACCEPT\nCOMMIT\n", "filter", "DOCKER", WriterDocker},
		{"docker bridge interface", filterHead + "-A FORWARD -o br-df8ca32ece86 -j ACCEPT\nCOMMIT\n", "filter", "FORWARD", WriterDocker},
		{"jump to KUBE-SERVICES", filterHead + ":KUBE-SERVICES - [0:0]\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n", "filter", "OUTPUT", WriterKubeProxy},
		{"kubelet chain", filterHead + ":KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -d 127.0.0.0/8 -j DROP\nCOMMIT\n", "filter", "KUBE-FIREWALL", WriterKubelet},
		{"cri-o hostports", "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-HOSTPORTS - [0:0]\n-A PREROUTING -j KUBE-HOSTPORTS\nCOMMIT\n", "nat", "PREROUTING", WriterCRIO},
		{"ovn-k chain", filterHead + ":OVN-KUBE-NODEPORT - [0:0]\n-A FORWARD -j OVN-KUBE-NODEPORT\nCOMMIT\n", "filter", "FORWARD", WriterOVNK},
		{"calico comment", filterHead + "-A INPUT -m comment --comment \"cali:Cz_u1IQiXIMmKD4c\" -j ACCEPT\nCOMMIT\n", "filter", "INPUT", WriterCalico},
		{"netavark jump", filterHead + ":NETAVARK_FORWARD - [0:0]\n-A FORWARD -j NETAVARK_FORWARD\nCOMMIT\n", "filter", "FORWARD", WriterNetavark},
		{"cni comment", filterHead + "-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j ACCEPT\nCOMMIT\n", "filter", "FORWARD", WriterCNI},
		{"firewalld zone chain", filterHead + ":IN_public_allow - [0:0]\n-A IN_public_allow -p tcp -m tcp --dport 8080 -j ACCEPT\nCOMMIT\n", "filter", "IN_public_allow", WriterFirewalld},
		{"admin in DOCKER-USER", filterHead + ":DOCKER-USER - [0:0]\n-A DOCKER-USER -s 10.0.0.0/8 -j DROP\nCOMMIT\n", "filter", "DOCKER-USER", WriterAdmin},
		{"docker's RETURN in DOCKER-USER", filterHead + ":DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n", "filter", "DOCKER-USER", WriterDocker},
		{"admin in CNI-ADMIN", filterHead + ":CNI-ADMIN - [0:0]\n-A CNI-ADMIN -p tcp -j ACCEPT\nCOMMIT\n", "filter", "CNI-ADMIN", WriterAdmin},
		{"kube-router before kube-proxy", filterHead + ":KUBE-ROUTER-INPUT - [0:0]\n-A INPUT -j KUBE-ROUTER-INPUT\nCOMMIT\n", "filter", "INPUT", WriterKubeRouter},
		{"cilium chain", filterHead + ":CILIUM_INPUT - [0:0]\n-A INPUT -m comment --comment \"cilium-feeder: CILIUM_INPUT\" -j CILIUM_INPUT\nCOMMIT\n", "filter", "INPUT", WriterCilium},
		{"flannel chain", filterHead + ":FLANNEL-FWD - [0:0]\n-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\nCOMMIT\n", "filter", "FORWARD", WriterFlannel},
		{"openshift sdn chain", filterHead + ":OPENSHIFT-FIREWALL-ALLOW - [0:0]\n-A INPUT -j OPENSHIFT-FIREWALL-ALLOW\nCOMMIT\n", "filter", "INPUT", WriterOpenShiftSDN},
		{"admin in OPENSHIFT-ADMIN-OUTPUT-RULES", filterHead + ":OPENSHIFT-ADMIN-OUTPUT-RULES - [0:0]\n-A OPENSHIFT-ADMIN-OUTPUT-RULES -d 10.0.0.0/8 -j REJECT\nCOMMIT\n", "filter", "OPENSHIFT-ADMIN-OUTPUT-RULES", WriterAdmin},
		{"plain admin rule", filterHead + "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n", "filter", "INPUT", WriterAdmin},
		{"docker subnet hairpin", "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE\nCOMMIT\n", "nat", "POSTROUTING", WriterDocker},
		{"nft table owner", "table inet firewalld {\n chain filter_INPUT {\n  type filter hook input priority filter + 10; policy accept;\n  tcp dport 22 accept\n }\n}\n", "firewalld", "filter_INPUT", WriterFirewalld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := parseAny(t, tc.dump)
			at := newAttributor(rs)
			tb, c := findChain(rs, tc.table, tc.chain)
			if c == nil || len(c.Rules) == 0 {
				t.Fatalf("no rule in %s/%s", tc.table, tc.chain)
			}
			r := c.Rules[len(c.Rules)-1]
			if got := at.rule(tb, c, r); got.writer != tc.want {
				t.Errorf("got %s (%s), want %s", got.writer, got.evidence, tc.want)
			}
		})
	}
}

func findChain(rs *nf.Ruleset, table, chain string) (*nf.Table, *nf.Chain) {
	for _, t := range rs.Tables {
		if t.Name == table {
			return t, t.Chain(chain)
		}
	}
	return nil, nil
}

func TestFirewalldZone(t *testing.T) {
	tests := []struct {
		chain, zone string
		ok          bool
	}{
		{"IN_public_allow", "public", true},
		{"FWD_trusted", "trusted", true},
		{"filter_IN_public_allow", "public", true},
		{"nat_PRE_policy_allow-host-ipv6", "allow-host-ipv6", true},
		{"INPUT_direct", "", true},
		{"filter_INPUT_ZONES", "", true},
		{"DOCKER", "", false},
		{"MY_CHAIN", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.chain, func(t *testing.T) {
			zone, ok := firewalldZone(tc.chain)
			if zone != tc.zone || ok != tc.ok {
				t.Errorf("got %q %t, want %q %t", zone, ok, tc.zone, tc.ok)
			}
		})
	}
}
