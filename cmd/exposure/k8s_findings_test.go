package main

import (
	"encoding/json"
	"testing"
)

func TestAuditK8sGolden(t *testing.T) {
	testK8sGolden(t, []goldenCase{
		{"audit-iptables-table", append(rulesArgs("iptables-01-synced.iptables-nft-save"), objectArgs(false)...)},
		{"audit-iptables-deleted-table", append(rulesArgs("iptables-04-after-delete-svc-nodeport.iptables-nft-save"), objectArgs(false)...)},
		{"audit-nftables-json", append(append([]string{"audit", "--rules", k8sFile("nftables-01-synced.nft.json"), "--local-addrs", k8sFile("node.local-addrs"), "-i", "eth0", "--proto", "tcp"}, objectArgs(true)...), "-o", "json")},
	})
}

// TestAuditK8sFindings runs the reconciliation on the real captures: the
// synced rules agree with the objects; the rules after svc-nodeport's
// deletion miss it while the objects still declare it; the synced rules
// hold it after the objects lost it.
func TestAuditK8sFindings(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     []string // findings that must be there ("id Kind ns/name")
		wantNot  []string // and those that must not
		wantNode string
	}{
		{"iptables synced", append(rulesArgs("iptables-01-synced.iptables-nft-save"), objectArgs(false)...),
			[]string{"nodeport-on-all-interfaces Node /kp-node"},
			[]string{"service-not-programmed Service default/svc-nodeport", "stale-service-rules Service default/svc-nodeport"}, "kp-node"},
		{"iptables rules lost the service", append(rulesArgs("iptables-04-after-delete-svc-nodeport.iptables-nft-save"), objectArgs(false)...),
			[]string{"service-not-programmed Service default/svc-nodeport"},
			[]string{"service-not-programmed Service default/svc-lb", "stale-service-rules Service default/svc-nodeport"}, "kp-node"},
		{"iptables rules outlive the service", append(rulesArgs("iptables-01-synced.iptables-nft-save"), objectArgs(true)...),
			[]string{"stale-service-rules Service default/svc-nodeport"},
			[]string{"service-not-programmed Service default/svc-nodeport", "stale-service-rules Service default/svc-lb"}, "kp-node"},
		{"nftables synced", append([]string{"audit", "--rules", k8sFile("nftables-01-synced.nft.json"), "--local-addrs", k8sFile("node.local-addrs"), "-i", "eth0"}, objectArgs(false)...),
			nil,
			[]string{"service-not-programmed Service default/svc-nodeport", "stale-service-rules Service default/svc-nodeport", "nodeport-on-all-interfaces Node /kp-node"}, "kp-node"},
		{"nftables rules lost the service", append([]string{"audit", "--rules", k8sFile("nftables-04-after-delete-svc-nodeport.nft.json"), "--local-addrs", k8sFile("node.local-addrs"), "-i", "eth0"}, objectArgs(false)...),
			[]string{"service-not-programmed Service default/svc-nodeport"},
			[]string{"service-not-programmed Service default/svc-lb"}, "kp-node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append(tc.args, "-o", "json")...)
			if code != ExitOK {
				t.Fatalf("got exit %d, want 0 (stderr %q)", code, stderr)
			}
			var doc auditDoc
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Node != tc.wantNode {
				t.Errorf("got node %q, want %q (the Node whose InternalIP is local)", doc.Node, tc.wantNode)
			}
			got := findingKeys(doc.Findings)
			for _, k := range tc.want {
				if !got[k] {
					t.Errorf("got findings %v, want %q among them", got, k)
				}
			}
			for _, k := range tc.wantNot {
				if got[k] {
					t.Errorf("got finding %q, want none such", k)
				}
			}
		})
	}
}

// TestAuditFailOnFindings: --fail-on gates on findings by kind, severity
// or id, and not on those it does not select.
func TestAuditFailOnFindings(t *testing.T) {
	base := append(rulesArgs("iptables-04-after-delete-svc-nodeport.iptables-nft-save"), objectArgs(false)...)
	tests := []struct {
		failOn string
		want   int
	}{
		{"finding", ExitFinding},
		{"service-not-programmed", ExitFinding},
		{"info", ExitFinding},
		{"stale-hostport", ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.failOn, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(base, "--fail-on", tc.failOn, "-o", "json")...)
			if code != tc.want {
				t.Errorf("got exit %d, want %d (stderr %q)", code, tc.want, stderr)
			}
		})
	}
}
