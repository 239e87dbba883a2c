package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
)

var updateGolden = flag.Bool("update-audit", false, "rewrite cmd/exposure/testdata/audit-*.golden")

func TestAuditExitCodes(t *testing.T) {
	allow := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(allow, []byte("tcp * 22\ntcp * 8080-8443\ntcp * 7000-7002\nudp * 5353\nicmp * 0\ntcp * 2375\ntcp * 5432\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join("..", "..", "examples", "docker-host.bundle")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"snapshot renders", []string{"audit", "--snapshot", bundle}, ExitOK},
		{"ports alias", []string{"ports", "--snapshot", bundle, "-o", "json"}, ExitOK},
		{"fail on open without allow-list", []string{"audit", "--snapshot", bundle, "--fail-on", "open"}, ExitFinding},
		{"everything allowed", []string{"audit", "--snapshot", bundle, "--fail-on", "open,forwarded", "--allow", allow}, ExitOK},
		{"bad fail-on", []string{"audit", "--snapshot", bundle, "--fail-on", "closed"}, ExitBadInput},
		{"bad output", []string{"audit", "--snapshot", bundle, "-o", "xml"}, ExitBadInput},
		{"bad from", []string{"audit", "--snapshot", bundle, "--from", "nope"}, ExitBadInput},
		{"missing bundle", []string{"audit", "--snapshot", "does-not-exist.bundle"}, ExitBadInput},
		{"snapshot and rules", []string{"audit", "--snapshot", bundle, "--rules", "x"}, ExitBadInput},
		{"snapshot needs -o", []string{"snapshot"}, ExitBadInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.want {
				t.Errorf("got exit %d, want %d (stderr %q)", code, tc.want, stderr)
			}
		})
	}
}

// TestAuditGolden renders the example bundles in every format.
func TestAuditGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"kube-proxy-table", []string{"ports", "--snapshot", "../../examples/kube-proxy-node.bundle"}},
		{"docker-json", []string{"ports", "--snapshot", "../../examples/docker-host.bundle", "-i", "rsdk0", "--addr", "198.51.100.1", "-o", "json"}},
		{"ovnk-yaml", []string{"ports", "--snapshot", "../../examples/openshift-ovnk-node.bundle", "-i", "br-ex", "--addr", "192.0.2.20", "--proto", "tcp", "-o", "yaml"}},
		{"offline-rules", []string{"audit", "--rules", "../../examples/docker-host.iptables-save", "--local-addrs", "../../examples/docker-host.local-addrs", "-i", "rsdk0", "--from", "203.0.113.9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("got exit %d, want 0 (stderr %q)", code, stderr)
			}
			path := filepath.Join("testdata", "audit-"+tc.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden: %v (run go test ./cmd/exposure -run TestAuditGolden -update-audit)", err)
			}
			if out != string(want) {
				t.Errorf("got output differs from %s (run with -update-audit to accept)", path)
			}
		})
	}
}

// TestAuditJSONContract checks the keys and the non-null lists.
func TestAuditJSONContract(t *testing.T) {
	_, out, _ := runCLI(t, "ports", "--snapshot", "../../examples/kube-proxy-node.bundle", "-o", "json")
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	if len(doc) != 2 || doc["exposures"] == nil || doc["findings"] == nil || len(doc["findings"]) != 0 {
		t.Fatalf("got top-level keys %v (%d findings), want exposures and findings: [] (no cluster objects)", keys, len(doc["findings"]))
	}
	want := []string{"addr", "conditions", "iface", "listener", "owner", "path", "port_from", "port_to", "proto", "sources", "state", "to"}
	for _, e := range doc["exposures"] {
		for _, k := range want {
			if v, ok := e[k]; !ok || v == nil {
				t.Fatalf("got exposure %v without %q (or null), want every key of the contract", e, k)
			}
		}
	}
	var rep exposure.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range rep.Exposures {
		if exposure.ObjectText(e.Owner) == "default/svc-nodeport:http" && e.Owner.Via == exposure.ViaNodePort && e.State == exposure.Forwarded && strings.HasPrefix(e.Owner.Component, "kube-proxy") {
			found = true
		}
	}
	if !found {
		t.Errorf("got no forwarded kube-proxy NodePort default/svc-nodeport:http, want one")
	}
}
