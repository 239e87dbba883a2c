package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const kubeProxyNode = "../../examples/kube-proxy-node.iptables-save"

func traceArgs(extra ...string) []string {
	return append([]string{"trace", "--rules", kubeProxyNode, "--local-addrs", "@../../examples/kube-proxy-node.local-addrs"}, extra...)
}

// TestTraceJSONContract checks the documented JSON shape of a NodePort
// trace: outcomes with probability, verdict, delivered, final, path steps
// (table, chain, rule or policy, target, line) and assumptions ([]).
func TestTraceJSONContract(t *testing.T) {
	code, out, errOut := runCLI(t, traceArgs("-p", "tcp", "-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "30080", "-i", "eth0", "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Outcomes []struct {
			Probability float64 `json:"probability"`
			Verdict     string  `json:"verdict"`
			Delivered   string  `json:"delivered"`
			Final       struct {
				Dst   string `json:"dst"`
				DPort int    `json:"dport"`
				Src   string `json:"src"`
				SPort int    `json:"sport"`
			} `json:"final"`
			Path []map[string]any `json:"path"`
			// Assumptions must be present and a list, never null.
			Assumptions *[]string `json:"assumptions"`
		} `json:"outcomes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(res.Outcomes) != 2 {
		t.Fatalf("got %d outcomes, want 2 (two endpoints)", len(res.Outcomes))
	}
	sum := 0.0
	dsts := map[string]bool{}
	for _, o := range res.Outcomes {
		sum += o.Probability
		dsts[o.Final.Dst] = true
		if o.Verdict != "ACCEPT" || o.Delivered != "forward" || o.Final.DPort != 8080 || o.Assumptions == nil {
			t.Errorf("outcome %+v: want ACCEPT, forward, dport 8080, assumptions []", o)
		}
		first := o.Path[0]
		for _, k := range []string{"table", "chain", "target", "hook"} {
			if _, ok := first[k]; !ok {
				t.Errorf("path step %v lacks %q", first, k)
			}
		}
	}
	if sum < 0.999 || sum > 1.001 || !dsts["198.51.100.11"] || !dsts["198.51.100.12"] {
		t.Errorf("probabilities sum to %v over %v; want 1 over both endpoints", sum, dsts)
	}
}

func TestTraceText(t *testing.T) {
	code, out, errOut := runCLI(t, traceArgs("-p", "tcp", "-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22", "-i", "eth0")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"TRACE: nat:PREROUTING:rule:1 -> KUBE-SERVICES", "delivered local", "filter:INPUT:policy -> ACCEPT"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.rules")
	if err := os.WriteFile(bad, []byte("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport x -j ACCEPT\nCOMMIT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ok", traceArgs("-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22"), 0, ""},
		{"no rules", []string{"trace", "-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22"}, 2, "--rules FILE is required"},
		{"bad rules file", []string{"trace", "--rules", bad, "-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22"}, 2, "bad.rules:3:"},
		{"missing file", []string{"trace", "--rules", "/nonexistent", "-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22"}, 2, "no such file"},
		{"bad address", traceArgs("-s", "nope", "-d", "192.0.2.2", "--dport", "22"), 2, "not an IP address"},
		{"no port", traceArgs("-s", "192.0.2.1", "-d", "192.0.2.2"), 2, "--dport"},
		{"bad state", traceArgs("-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22", "--state", "weird"), 2, "--state"},
		{"unknown flag", traceArgs("--frob"), 2, "unknown flag"},
		{"bad output", traceArgs("-s", "192.0.2.1", "-d", "192.0.2.2", "--dport", "22", "-o", "xml"), 2, "output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.msg)
			}
		})
	}
}

// TestTraceBatch: one JSON line per packet line, errors per line, exit 2
// when a line was invalid.
func TestTraceBatch(t *testing.T) {
	batch := "# packets\n-p tcp -s 192.0.2.1 -d 192.0.2.2 --dport 30080 -i eth0\n-p udp -s 192.0.2.1 -d 192.0.2.2 --dport 53\n-p tcp -s bogus -d 192.0.2.2 --dport 1\n"
	var out, errOut bytes.Buffer
	code := run(append(traceArgs(), "--batch", "-"), strings.NewReader(batch), &out, &errOut)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 2 || len(lines) != 3 {
		t.Fatalf("exit %d, %d lines; want 2 and 3 lines:\n%s%s", code, len(lines), out.String(), errOut.String())
	}
	var first, last struct {
		Line     int               `json:"line"`
		Outcomes []json.RawMessage `json:"outcomes"`
		Error    string            `json:"error"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Line != 2 || len(first.Outcomes) != 2 {
		t.Errorf("first batch line: %s (%v)", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil || last.Line != 4 || last.Error == "" {
		t.Errorf("bad batch line: %s (%v)", lines[2], err)
	}
}
