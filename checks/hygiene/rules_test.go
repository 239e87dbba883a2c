package hygiene

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
)

// table builds a hand-made table: chains, then rules as "CHAIN text -j TARGET"
// strings in iptables -S form.
func table(family, name string, b Backend, chains []string, rules ...string) Table {
	t := Table{Family: family, Name: name, Backend: b, Chains: chains}
	index := map[string]int{}
	for _, r := range rules {
		f := strings.Fields(r)
		index[f[1]]++
		target := ""
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-j" || f[i] == "-g" {
				target = f[i+1]
			}
		}
		t.Rules = append(t.Rules, Rule{Table: name, Chain: f[1], Index: index[f[1]], Text: r, Target: target})
	}
	return t
}

var builtins = []string{"INPUT", "FORWARD", "OUTPUT"}

// statusOf returns "STATUS actual" of each result ID asked for.
func statusOf(rs []checks.Result, ids ...string) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		for _, id := range ids {
			if r.ID == id {
				out[id] = fmt.Sprintf("%s %s", r.Status, r.Evidence.Actual)
			}
		}
	}
	return out
}

func TestRulesHandMade(t *testing.T) {
	canaries := []string{"KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY"}
	kubeTables := []Table{
		table("ipv4", "mangle", NFT, canaries),
		table("ipv4", "nat", NFT, append([]string{"PREROUTING", "KUBE-SERVICES"}, canaries...),
			`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`),
		table("ipv4", "filter", NFT, append([]string{"INPUT", "KUBE-FIREWALL"}, canaries...), "-A INPUT -j KUBE-FIREWALL"),
	}
	tests := []struct {
		name       string
		snap       Snapshot
		cs         Components
		makeChains string
		want       map[string]string
	}{
		{"flushed while the kubelet runs", Snapshot{Tables: []Table{table("ipv4", "filter", NFT, builtins)}},
			Components{Kubelet: "pid 1"}, "true", map[string]string{
				"ruleset-flushed": "FAIL 1 tables, 0 rules, 0 Kubernetes chains",
				"kubelet-canary":  "WARN missing in ipv4/mangle, ipv4/nat, ipv4/filter",
			}},
		{"no Kubernetes component: nothing expected", Snapshot{}, Components{}, "", map[string]string{
			"ruleset-flushed": "INFO 0 tables, 0 rules, 0 Kubernetes chains",
			"kubelet-canary":  "INFO missing in ipv4/mangle, ipv4/nat, ipv4/filter",
		}},
		{"intact Kubernetes ruleset", Snapshot{Tables: kubeTables}, Components{Kubelet: "a", KubeProxy: "b"}, "true", map[string]string{
			"ruleset-flushed":   "PASS 3 tables, 2 rules, 8 Kubernetes chains",
			"kubelet-canary":    "PASS present",
			"kube-proxy-canary": "PASS present",
			"kube-proxy-chains": "PASS present",
		}},
		{"filter restored over kube-proxy's rules: canary gone from filter only", Snapshot{Tables: append(kubeTables[:2:2],
			table("ipv4", "filter", NFT, builtins, "-A INPUT -p tcp --dport 22 -j ACCEPT"))}, Components{Kubelet: "a", KubeProxy: "b"}, "true", map[string]string{
			"kube-proxy-canary": "WARN missing in ipv4/filter",
			"kubelet-canary":    "WARN missing in ipv4/filter",
			"kube-proxy-chains": "PASS present",
		}},
		{"kube-proxy canary gone, chains still there", Snapshot{Tables: []Table{
			table("ipv4", "nat", NFT, []string{"KUBE-SERVICES"})}}, Components{KubeProxy: "b"}, "", map[string]string{
			"kube-proxy-canary": "WARN missing in ipv4/mangle, ipv4/nat, ipv4/filter",
			"kube-proxy-chains": "PASS present",
		}},
		{"kubelet canary not expected with makeIPTablesUtilChains false", Snapshot{Tables: []Table{
			table("ipv4", "nat", NFT, []string{"KUBE-SERVICES"})}}, Components{Kubelet: "a"}, "false", map[string]string{
			"kubelet-canary": "INFO missing in ipv4/mangle, ipv4/nat, ipv4/filter",
		}},
		{"kube-proxy in nftables mode keeps no iptables chains", Snapshot{Tables: []Table{
			{Family: "ip", Name: "kube-proxy", Backend: Native, Chains: []string{"services", "nodeports"}},
			{Family: "inet", Name: "admin", Backend: Native, Chains: []string{"input"}, Rules: []Rule{{Table: "admin", Chain: "input", Index: 1, Text: "tcp dport 22 accept"}}},
		}}, Components{KubeProxy: "b"}, "", map[string]string{
			"ruleset-flushed":   "PASS 2 tables, 1 rules, 2 Kubernetes chains",
			"kube-proxy-canary": "PASS missing in ipv4/mangle, ipv4/nat, ipv4/filter",
			"kube-proxy-chains": "PASS missing in ipv4/nat",
			"admin-rules":       "PASS none",
		}},
		{"docker chains gone while dockerd runs", Snapshot{Tables: []Table{table("ipv4", "filter", Legacy, builtins)}},
			Components{Docker: "pid 9"}, "", map[string]string{"docker-chains": "FAIL missing in ipv4/filter"}},
		{"OVN-K chains gone", Snapshot{Tables: kubeTables}, Components{OVNK: "pid 3"}, "", map[string]string{"ovnk-chains": "FAIL missing in ipv4/nat"}},
		{"legacy and nft both hold IPv4 rules", Snapshot{Tables: []Table{
			table("ipv4", "filter", Legacy, builtins, "-A INPUT -i docker0 -j ACCEPT"),
			table("ipv4", "filter", NFT, builtins, "-A INPUT -j KUBE-FIREWALL"),
			table("ipv6", "filter", NFT, builtins, "-A INPUT -j KUBE-FIREWALL"),
		}}, Components{}, "", map[string]string{"mixed-backends": "WARN ipv4: 1 legacy and 1 nf_tables rules"}},
		{"empty legacy tables do not count", Snapshot{Tables: []Table{
			table("ipv4", "filter", Legacy, builtins),
			table("ipv4", "filter", NFT, builtins, "-A INPUT -j KUBE-FIREWALL"),
		}}, Components{}, "", map[string]string{"mixed-backends": "PASS one backend"}},
		{"admin rule in INPUT on OpenShift", Snapshot{Tables: []Table{
			table("ipv4", "filter", NFT, append(builtins, "OPENSHIFT-ADMIN-OUTPUT-RULES"),
				"-A INPUT -p tcp --dport 22 -s 198.51.100.0/24 -j ACCEPT",
				"-A FORWARD -j OPENSHIFT-ADMIN-OUTPUT-RULES",
				"-A OPENSHIFT-ADMIN-OUTPUT-RULES -d 203.0.113.9 -j REJECT"),
		}}, Components{}, "", map[string]string{"admin-rules": "WARN filter/INPUT#1: -A INPUT -p tcp --dport 22 -s 198.51.100.0/24 -j ACCEPT"}},
		{"admin rules in FORWARD and DOCKER next to DOCKER-USER", Snapshot{Tables: []Table{
			table("ipv4", "filter", Legacy, append(builtins, "DOCKER", "DOCKER-USER"),
				"-A FORWARD -j DOCKER-USER",
				"-A FORWARD -s 10.0.0.0/8 -j DROP",
				"-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
				"-A DOCKER -p tcp --dport 3306 -j ACCEPT",
				"-A DOCKER-USER -s 192.0.2.0/24 -j DROP"),
		}}, Components{}, "", map[string]string{"admin-rules": "WARN filter/FORWARD#2: -A FORWARD -s 10.0.0.0/8 -j DROP; filter/DOCKER#2: -A DOCKER -p tcp --dport 3306 -j ACCEPT"}},
		{"admin rules without a reserved chain are informational", Snapshot{Tables: []Table{
			table("ipv4", "filter", NFT, builtins, "-A INPUT -p tcp --dport 22 -j ACCEPT"),
		}}, Components{}, "", map[string]string{"admin-rules": "INFO filter/INPUT#1: -A INPUT -p tcp --dport 22 -j ACCEPT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := make([]string, 0, len(tc.want))
			for id := range tc.want {
				ids = append(ids, id)
			}
			got := statusOf(Rules(tc.snap, tc.cs, tc.makeChains), ids...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRulesCaptures checks real rulesets: every rule kube-proxy, dockerd and
// firewalld wrote is attributed to them, and the combination of a legacy
// Docker dump with an nft kube-proxy dump is flagged.
func TestRulesCaptures(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		cs    Components
		want  map[string]string
	}{
		{"kube-proxy iptables mode", []string{"kube-proxy-synced.iptables-nft-save.txt", "kube-proxy-synced.ip6tables-nft-save.txt"},
			Components{KubeProxy: "pid 1"}, map[string]string{
				"admin-rules": "PASS none", "kube-proxy-canary": "PASS present", "kube-proxy-chains": "PASS present",
				"mixed-backends": "PASS one backend", "ruleset-flushed": "PASS 6 tables, 137 rules, 56 Kubernetes chains",
			}},
		{"docker legacy", []string{"docker-run.iptables-legacy-save.txt"}, Components{Docker: "pid 2"}, map[string]string{
			"admin-rules": "PASS none", "docker-chains": "PASS present",
		}},
		{"firewalld iptables backend", []string{"firewalld-iptables-backend.iptables-nft-save.txt"}, Components{}, map[string]string{
			"admin-rules": "PASS none",
		}},
		{"docker legacy next to kube-proxy nft", []string{"docker-run.iptables-legacy-save.txt", "kube-proxy-synced.iptables-nft-save.txt"},
			Components{}, map[string]string{"mixed-backends": "WARN ipv4: 24 legacy and 115 nf_tables rules"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ss []Snapshot
			for _, f := range tc.files {
				ss = append(ss, readCapture(t, f))
			}
			ids := make([]string, 0, len(tc.want))
			for id := range tc.want {
				ids = append(ids, id)
			}
			got := statusOf(Rules(Merge(ss...), tc.cs, "true"), ids...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}
