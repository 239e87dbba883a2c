package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a report with every status, a manual control, a configz and a
// flag layer, as `exposure check` produces it.
func sample() checks.Report {
	r := checks.Report{Node: "node-a", Platform: "kubernetes", KubeletVersion: "v1.30.2", Benchmark: "cis-1.11", Results: []checks.Result{
		{ID: "4.2.6", Benchmark: "cis-1.11", Group: "kubelet", Title: "Ensure that the --make-iptables-util-chains argument is set to true",
			Status: checks.Fail, Severity: checks.Low, Scored: true,
			Message:     "kubelet v1.30.2: only KUBE-IPTABLES-HINT (mangle), KUBE-FIREWALL's localhost rule and KUBE-KUBELET-CANARY are lost",
			Evidence:    checks.Evidence{Layer: checks.LayerFlag, Path: "/etc/default/kubelet", Actual: "false", Expected: "true"},
			Remediation: "Remove --make-iptables-util-chains from the kubelet command line (it comes from /etc/default/kubelet) or set --make-iptables-util-chains=true; then systemctl daemon-reload && systemctl restart kubelet."},
		{ID: "4.2.1", Benchmark: "cis-1.11", Group: "kubelet", Title: "Ensure that the --anonymous-auth argument is set to false",
			Status: checks.Pass, Severity: checks.High, Scored: true, Message: "anonymous requests to the kubelet API are rejected",
			Evidence: checks.Evidence{Layer: checks.LayerFile, Path: "/var/lib/kubelet/config.yaml", Actual: "false", Expected: "false"}},
		{ID: "4.2.4", Benchmark: "cis-1.11", Group: "kubelet", Title: "Verify that the --read-only-port argument is set to 0",
			Status: checks.Fail, Severity: checks.High, Scored: false, Message: "the kubelet serves /pods, /stats and /spec without authentication on 0.0.0.0:10255",
			Evidence:    checks.Evidence{Layer: checks.LayerConfigz, Path: "/api/v1/nodes/node-a/proxy/configz", Actual: "10255", Expected: "0"},
			Remediation: "Set readOnlyPort: 0 in the file given by its --config."},
		{ID: "4.2.3", Benchmark: "cis-1.11", Group: "kubelet", Title: "Ensure that the --client-ca-file argument is set as appropriate",
			Status: checks.Error, Severity: checks.Medium, Scored: true, Message: "load kubelet config file: read /etc/kubernetes/kubelet.yaml: no such file or directory",
			Evidence: checks.Evidence{Expected: "a CA bundle path"}},
		{ID: "admin-rules", Group: "hygiene", Title: "Admin rules sit in the chains reserved for them", Status: checks.Warn, Severity: checks.Medium, Scored: true,
			Message:     "1 rule(s) not written by a known component sit in built-in or component-owned chains",
			Evidence:    checks.Evidence{Layer: checks.LayerRules, Path: "filter/FORWARD#2", Actual: "filter/FORWARD#2: -A FORWARD -s 10.0.0.0/8 -j DROP", Expected: "admin rules only in DOCKER-USER"},
			Remediation: "Move them to DOCKER-USER."},
		{ID: "kubelet-bind", Group: "kubelet", Title: "Kubelet API bind address and port", Status: checks.Info, Severity: checks.Note,
			Message:  "the kubelet API listens on every address (0.0.0.0:10250); exposure is decided by the firewall",
			Evidence: checks.Evidence{Layer: checks.LayerDefault, Path: "kubelet built-in (KubeletConfiguration v1beta1)", Actual: "0.0.0.0:10250", Expected: "a node address, with authentication"}},
	}}
	r.Sort()
	return r
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name, format, golden string
		report               checks.Report
	}{
		{"table", "table", "sample.table.golden", sample()},
		{"json", "json", "sample.json.golden", sample()},
		{"yaml", "yaml", "sample.yaml.golden", sample()},
		{"junit", "junit", "sample.junit.xml.golden", sample()},
		{"kube-bench", "kube-bench", "sample.kube-bench.json.golden", sample()},
		{"empty json has [] results", "json", "empty.json.golden", checks.Report{}},
		{"empty kube-bench", "kube-bench", "empty.kube-bench.json.golden", checks.Report{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, tc.report); err != nil {
				t.Fatalf("Write: got error %v, want none", err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./checks/render -update): %v", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output (-want +got):\n%s", tc.format, diff)
			}
		})
	}
}

// TestKubeBenchShape decodes the kube-bench output with kube-bench's own
// field names and checks totals and the state mapping (unscored FAIL and
// ERROR become WARN).
func TestKubeBenchShape(t *testing.T) {
	var buf bytes.Buffer
	if err := KubeBench(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Controls []struct {
			ID    string `json:"id"`
			Tests []struct {
				Section string `json:"section"`
				Results []struct {
					TestNumber string `json:"test_number"`
					Status     string `json:"status"`
				} `json:"results"`
			} `json:"tests"`
		}
		Totals map[string]int
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range doc.Controls {
		for _, g := range c.Tests {
			for _, r := range g.Results {
				got[c.ID+"/"+g.Section+"/"+r.TestNumber] = r.Status
			}
		}
	}
	want := map[string]string{"4/4.2/4.2.1": "PASS", "4/4.2/4.2.3": "WARN", "4/4.2/4.2.4": "WARN", "4/4.2/4.2.6": "FAIL",
		"4/4.2/kubelet-bind": "INFO", "X/X.1/admin-rules": "WARN"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"total_pass": 1, "total_fail": 1, "total_warn": 3, "total_info": 1}, doc.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestJUnitWellFormed(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &suites); err != nil {
		t.Fatalf("unmarshal junit: %v", err)
	}
	got := []int{}
	for _, s := range suites.Suites {
		got = append(got, s.Tests, s.Failures, s.Errors, s.Skipped)
	}
	if diff := cmp.Diff([]int{5, 2, 1, 1, 1, 0, 0, 1}, got); diff != "" {
		t.Errorf("suite counts tests/failures/errors/skipped (-want +got):\n%s", diff)
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "sarif", checks.Report{}); err == nil {
		t.Errorf("Write(sarif): got no error, want one")
	}
}
