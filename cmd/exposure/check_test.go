package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nodes is where the check fixtures (host trees used with --root) live.
const nodes = "../../checks/audit/testdata/nodes"

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckExitCodes(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(rules, []byte("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"FAIL without --exit-code", []string{"check", "--root", nodes + "/kubeadm", "-o", "json"}, ExitOK, ""},
		{"FAIL with --exit-code", []string{"check", "--root", nodes + "/kubeadm", "--exit-code", "-o", "json"}, ExitFinding, ""},
		{"no FAIL with --exit-code", []string{"check", "--root", nodes + "/rke2", "--exit-code", "-o", "json", "--kubelet-version", "v1.31.0"}, ExitOK, ""},
		{"ERROR results are not a failed command", []string{"check", "--root", nodes + "/wrongfile", "--kubelet-cmdline", "kubelet --config=/var/lib/kubelet/kubeconfig", "--exit-code", "-o", "json"}, ExitOK, ""},
		{"unknown output", []string{"check", "--root", nodes + "/kubeadm", "-o", "sarif"}, ExitBadInput, `unknown output "sarif"`},
		{"bad version", []string{"check", "--root", nodes + "/kubeadm", "--kubelet-version", "latest"}, ExitBadInput, "parse version"},
		{"missing rules file", []string{"check", "--root", nodes + "/kubeadm", "--rules", "/nonexistent/rules"}, ExitBadInput, "read rules"},
		{"rules file read", []string{"check", "--root", nodes + "/kubeadm", "--rules", rules, "-o", "yaml"}, ExitOK, ""},
		{"missing kubeconfig", []string{"check", "--root", nodes + "/kubeadm", "--kubeconfig", "/nonexistent"}, ExitBadInput, "read kubeconfig"},
		{"positional argument", []string{"check", "extra"}, ExitBadInput, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr containing %q", code, stderr, tc.wantCode, tc.wantErr)
			}
		})
	}
}

// TestCheckFlags drives the stand-in flags through the CLI and reads the
// JSON result.
func TestCheckFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantID   string
		wantLine string
	}{
		{"--kubelet-cmdline and --kubelet-cwd resolve a relative --config",
			[]string{"--root", nodes + "/relative", "--kubelet-cmdline", "/usr/bin/kubelet --config=kubelet_conf.json", "--kubelet-cwd", "/var/lib/kubelet", "--kubelet-version", "v1.29.0"},
			"4.2.6", "FAIL file /var/lib/kubelet/kubelet_conf.json false low"},
		{"--kubelet-version selects the benchmark and severity",
			[]string{"--root", nodes + "/aks", "--kubelet-cmdline", "kubelet --config=/etc/default/kubeletconfig.json", "--kubelet-version", "v1.27.9"},
			"3.2.7", "FAIL file /etc/default/kubeletconfig.json false medium"},
		{"--node names the node",
			[]string{"--root", nodes + "/flagsonly", "--kubelet-cmdline", "kubelet", "--node", "worker-7"},
			"4.2.1", "FAIL default kubelet built-in (no --config) true high"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"check", "-o", "json"}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d (%s), want 0", code, stderr)
			}
			var doc struct {
				Node    string `json:"node"`
				Results []struct {
					ID, Status, Severity string
					Evidence             struct{ Layer, Path, Actual string }
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			got := ""
			for _, r := range doc.Results {
				if r.ID == tc.wantID {
					got = strings.Join([]string{r.Status, r.Evidence.Layer, r.Evidence.Path, r.Evidence.Actual, r.Severity}, " ")
				}
			}
			if got != tc.wantLine {
				t.Errorf("%s: got %q, want %q", tc.wantID, got, tc.wantLine)
			}
			if tc.name == "--node names the node" && doc.Node != "worker-7" {
				t.Errorf("node: got %q, want worker-7", doc.Node)
			}
		})
	}
}

func TestCheckOutputs(t *testing.T) {
	wants := map[string]string{
		"table":      "STATUS  ID",
		"json":       `"results": [`,
		"yaml":       "results:\n- benchmark: cis-1.12",
		"junit":      `<testsuite name="exposure check kubelet"`,
		"kube-bench": `"Controls": [`,
	}
	for format, want := range wants {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "check", "--root", nodes+"/kubeadm", "-o", format)
			if code != ExitOK || !strings.Contains(stdout, want) {
				t.Errorf("exit %d (%s); output lacks %q:\n%s", code, stderr, want, stdout)
			}
		})
	}
}

// TestCheckConfigz serves a node and its configz from a TLS API server and
// checks that the CLI prefers the live configuration over the node's files
// (which say --make-iptables-util-chains=false).
func TestCheckConfigz(t *testing.T) {
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v1/nodes/node-a":
			fmt.Fprint(w, `{"status":{"nodeInfo":{"kubeletVersion":"v1.33.1"}}}`)
		case "/api/v1/nodes/node-a/proxy/configz":
			fmt.Fprint(w, `{"kubeletconfig":{"makeIPTablesUtilChains":true,"readOnlyPort":10255}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	content := fmt.Sprintf("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: %q, certificate-authority-data: %s}}]\n"+
		"users: [{name: u, user: {token: tok}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n", api.URL, base64.StdEncoding.EncodeToString(ca))
	if err := os.WriteFile(kc, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--root", nodes+"/kubeadm", "--kubeconfig", kc, "-o", "kube-bench")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"version": "cis-1.12"`, `"detected_version": "v1.33.1"`, `"audit": "configz: /api/v1/nodes/node-a/proxy/configz"`, `"actual_value": "10255"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("kube-bench output lacks %s:\n%s", want, stdout)
		}
	}
}

// TestCheckRules reads real captures through --rules.
func TestCheckRules(t *testing.T) {
	captures := "../../checks/hygiene/testdata/"
	code, stdout, stderr := runCLI(t, "check", "--root", nodes+"/proc", "--kubelet-version", "v1.32.0", "-o", "json",
		"--rules", captures+"kube-proxy-synced.iptables-nft-save.txt", "--rules", captures+"docker-run.iptables-legacy-save.txt")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Results []struct{ ID, Status string } `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range doc.Results {
		got[r.ID] = r.Status
	}
	want := map[string]string{"mixed-backends": "WARN", "ruleset-flushed": "PASS", "admin-rules": "PASS", "docker-chains": "PASS",
		"restore-iptables": "FAIL", "firewalld-iptables": "FAIL"}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("%s: got %q, want %q", id, got[id], st)
		}
	}
}
