package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/collect"
	nf "github.com/exposure-audit/exposure/netfilter"
)

const (
	dockerDir   = "../../testdata/corpus/docker/run1-nft-userland-proxy/"
	dockerStart = dockerDir + "01-after-start.iptables-nft-save.txt"
	dockerRun   = dockerDir + "02-after-run-p8080.iptables-nft-save.txt"
	// dockerS holds `iptables -S` and `iptables -t nat -S` of the same
	// captures (diff/testdata/iptables-S/README.md).
	dockerS = "../../diff/testdata/iptables-S/"
)

// runDiffCmd runs `exposure diff args…` and returns the exit code, stdout
// and stderr.
func runDiffCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"diff"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// diffJSON is the JSON contract the tests read back.
type diffJSON struct {
	Before          []string         `json:"before"`
	After           []string         `json:"after"`
	Changes         []map[string]any `json:"changes"`
	ExposureChanges []map[string]any `json:"exposure_changes"`
	Notes           []string         `json:"notes"`
}

// brief reduces changes to "kind | writer | table | chain | before->after | text".
func brief(cs []map[string]any) []string {
	var out []string
	for _, c := range cs {
		pos := func(k string) string {
			if v, ok := c[k].(float64); ok {
				return fmt.Sprint(int(v))
			}
			return ""
		}
		text := str(c["text_after"])
		if text == "" {
			text = str(c["text_before"])
		}
		out = append(out, strings.Join([]string{str(c["kind"]), str(c["writer"]), str(c["table"]), str(c["chain"]),
			pos("position_before") + "->" + pos("position_after"), text}, " | "))
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func TestDiffInputs(t *testing.T) {
	want := []string{
		"rule_inserted | docker | filter | DOCKER | ->1 | -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
		"rule_inserted | docker | nat | POSTROUTING | ->2 | -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
		"rule_inserted | docker | nat | DOCKER | ->2 | -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
	}
	sBefore := []string{dockerS + "docker-01-after-start.filter.S.txt", "--before", dockerS + "docker-01-after-start.nat.S.txt"}
	sAfter := []string{dockerS + "docker-02-after-run-p8080.filter.S.txt", "--after", dockerS + "docker-02-after-run-p8080.nat.S.txt"}
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"iptables-save both", "", []string{dockerStart, dockerRun}},
		{"iptables -S both (study-note method)", "", append(append([]string{}, sBefore...), sAfter...)},
		{"iptables -S before, iptables-save after", "", append(append([]string{}, sBefore...), dockerRun)},
		{"after from stdin", readFile(t, dockerRun), []string{dockerStart, "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "-o", "json")
			code, out, errs := runDiffCmd(t, tc.stdin, args...)
			if code != ExitOK {
				t.Fatalf("got exit %d, want 0; stderr: %s", code, errs)
			}
			var got diffJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if d := cmp.Diff(want, brief(got.Changes)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiffOutputs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, out string)
	}{
		{"table", []string{dockerStart, dockerRun}, ExitOK, func(t *testing.T, out string) {
			for _, s := range []string{"CHANGE ", "rule_inserted  docker  ip nat     DOCKER       ->2  -A DOCKER ! -i docker0", "3 change(s): rule_inserted 3; by writer: docker 3", "note: exposure_changes"} {
				if !strings.Contains(out, s) {
					t.Errorf("table output lacks %q:\n%s", s, out)
				}
			}
		}},
		{"json lists never null", []string{dockerStart, dockerStart, "-o", "json"}, ExitOK, func(t *testing.T, out string) {
			for _, s := range []string{`"changes": []`, `"exposure_changes": []`, `"notes": []`} {
				if !strings.Contains(out, s) {
					t.Errorf("json output lacks %s:\n%s", s, out)
				}
			}
		}},
		{"yaml", []string{dockerStart, dockerRun, "-o", "yaml"}, ExitOK, func(t *testing.T, out string) {
			if !strings.Contains(out, "kind: rule_inserted") || !strings.Contains(out, "exposure_changes: []") {
				t.Errorf("yaml output:\n%s", out)
			}
		}},
		{"no differences", []string{dockerRun, dockerRun, "--exit-code"}, ExitOK, func(t *testing.T, out string) {
			if got, want := out, "no differences\n"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}},
		{"exposure changes", []string{dockerStart, dockerRun, "--iface", "eth0=198.51.100.1/24", "--iface", "docker0=172.17.0.1/16", "--in-iface", "eth0"}, ExitOK, func(t *testing.T, out string) {
			for _, s := range []string{"exposure changes:", "tcp 198.51.100.1:8080 on eth0: closed -> forwarded (to 172.17.0.2:80) [docker]", "rule_inserted: nat DOCKER rule 2: -A DOCKER ! -i docker0"} {
				if !strings.Contains(out, s) {
					t.Errorf("table output lacks %q:\n%s", s, out)
				}
			}
		}},
		{"exposure changes json", []string{dockerStart, dockerRun, "--local-addrs", "198.51.100.1", "-o", "json"}, ExitOK, func(t *testing.T, out string) {
			var got diffJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.ExposureChanges) == 0 || got.ExposureChanges[0]["port_from"] != 8080.0 || got.ExposureChanges[0]["proto"] != "tcp" {
				t.Errorf("got exposure_changes %v, want tcp 8080 first", got.ExposureChanges)
			}
		}},
		{"exit-code with differences", []string{dockerStart, dockerRun, "--exit-code"}, ExitFinding, func(t *testing.T, out string) {
			if !strings.Contains(out, "3 change(s)") {
				t.Errorf("the differences must be printed before exit 1:\n%s", out)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runDiffCmd(t, "", tc.args...)
			if code != tc.wantCode {
				t.Fatalf("got exit %d, want %d; stderr: %s", code, tc.wantCode, errs)
			}
			tc.check(t, out)
		})
	}
}

func TestDiffUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"one argument", []string{dockerStart}, "want BEFORE and AFTER"},
		{"three arguments", []string{dockerStart, dockerRun, dockerRun}, "want BEFORE and AFTER"},
		{"bad format", []string{dockerStart, dockerRun, "-o", "xml"}, `unknown output "xml"`},
		{"missing file", []string{dockerStart, "/nonexistent/after"}, "read rules"},
		{"both stdin", []string{"-", "-"}, "only one side"},
		{"not a ruleset", []string{dockerStart, "../../go.mod"}, "not an iptables ruleset"},
		{"unknown flag", []string{dockerStart, dockerRun, "--nope"}, "unknown flag"},
		{"bad iface", []string{dockerStart, dockerRun, "--iface", "eth0"}, "want NAME=CIDR"},
		{"bad iface address", []string{dockerStart, dockerRun, "--iface", "eth0=1.2.3"}, "not an address/length"},
		{"bad local address", []string{dockerStart, dockerRun, "--local-addrs", "nope"}, "not an IP address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runDiffCmd(t, "", tc.args...)
			if code != ExitBadInput {
				t.Fatalf("got exit %d, want %d; stdout: %s", code, ExitBadInput, out)
			}
			if !strings.Contains(errs, tc.wantErr) {
				t.Errorf("got stderr %q, want it to mention %q", errs, tc.wantErr)
			}
		})
	}
}

// TestDiffNft runs nftables inputs (text and JSON) through the CLI.
func TestDiffNft(t *testing.T) {
	dir := "../../testdata/corpus/firewalld/nftables-backend/"
	code, out, errs := runDiffCmd(t, "", dir+"01-after-start.nft-list-ruleset.txt", dir+"02-after-runtime-add-port.nft-list-ruleset.json", "-o", "json")
	if code != ExitOK {
		t.Fatalf("got exit %d, want 0; stderr: %s", code, errs)
	}
	var got diffJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"rule_inserted | firewalld | firewalld | filter_IN_public_allow | ->3 | tcp dport 8080 accept"}
	if d := cmp.Diff(want, brief(got.Changes)); d != "" {
		t.Errorf("nft text before, nft JSON after (-want +got):\n%s", d)
	}
}

// writeBundle writes a snapshot bundle of one iptables-save capture on a
// node with eth0 and docker0, gzip'd when zip is set.
func writeBundle(t *testing.T, save string, zip bool) string {
	t.Helper()
	b := &collect.Bundle{FormatVersion: collect.BundleFormatVersion, Kind: collect.BundleKind, Host: "node", Tool: "test",
		Rulesets: []collect.RulesetDump{{Name: "iptables-nft ipv4", Source: save, Format: collect.FormatIptables,
			Backend: nf.BackendIptablesNft, Family: 4, Data: readFile(t, save)}},
		Interfaces: []collect.Interface{{Name: "eth0", Addrs: []string{"198.51.100.1/24"}}, {Name: "docker0", Addrs: []string{"172.17.0.1/16"}}},
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := collect.WriteBundle(f, b, zip); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDiffBundles(t *testing.T) {
	before, after := writeBundle(t, dockerStart, false), writeBundle(t, dockerRun, true)
	code, out, errs := runDiffCmd(t, "", before, after, "--in-iface", "eth0", "-o", "json")
	if code != ExitOK {
		t.Fatalf("got exit %d, want 0; stderr: %s", code, errs)
	}
	var got diffJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Changes); n != 3 {
		t.Errorf("got %d changes, want 3", n)
	}
	var ports []string
	for _, e := range got.ExposureChanges {
		ports = append(ports, fmt.Sprintf("%v %v:%v %v->%v", e["proto"], e["addr"], e["port_from"], e["before"], e["after"]))
	}
	want := []string{"tcp 172.17.0.1:8080 closed->forwarded", "tcp 198.51.100.1:8080 closed->forwarded"}
	if d := cmp.Diff(want, ports); d != "" {
		t.Errorf("exposure changes from the bundles' own node (-want +got):\n%s", d)
	}
	code, _, errs = runDiffCmd(t, "", before, after, "--before", dockerStart)
	if code != ExitBadInput || !strings.Contains(errs, "give it alone on its side") {
		t.Errorf("bundle with another file: got exit %d, stderr %q; want 2 and a message", code, errs)
	}
}
