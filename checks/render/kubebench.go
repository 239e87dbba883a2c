package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/exposure-audit/exposure/checks"
)

// The kube-bench JSON document (check/controls.go OverallControls,
// Controls, Group, Summary and check/check.go Check, as of a73ce378). Field
// names and tags are kube-bench's, including the untagged mixed-case ones
// (AuditEnv, AuditConfig, IsMultiple), so pipelines reading `kube-bench
// --json` can read this.
type kbOverall struct {
	Controls []kbControls `json:"Controls"`
	Totals   kbSummary    `json:"Totals"`
}

type kbControls struct {
	ID              string    `json:"id"`
	Version         string    `json:"version"`
	DetectedVersion string    `json:"detected_version,omitempty"`
	Text            string    `json:"text"`
	Type            string    `json:"node_type"`
	Groups          []kbGroup `json:"tests"`
	kbSummary
}

type kbGroup struct {
	ID     string    `json:"section"`
	Type   string    `json:"type"`
	Pass   int       `json:"pass"`
	Fail   int       `json:"fail"`
	Warn   int       `json:"warn"`
	Info   int       `json:"info"`
	Text   string    `json:"desc"`
	Checks []kbCheck `json:"results"`
}

type kbSummary struct {
	Pass int `json:"total_pass"`
	Fail int `json:"total_fail"`
	Warn int `json:"total_warn"`
	Info int `json:"total_info"`
}

type kbCheck struct {
	ID             string   `json:"test_number"`
	Text           string   `json:"test_desc"`
	Audit          string   `json:"audit"`
	AuditEnv       string   `json:"AuditEnv"`
	AuditConfig    string   `json:"AuditConfig"`
	Type           string   `json:"type"`
	Remediation    string   `json:"remediation"`
	TestInfo       []string `json:"test_info"`
	Status         string   `json:"status"`
	ActualValue    string   `json:"actual_value"`
	Scored         bool     `json:"scored"`
	IsMultiple     bool     `json:"IsMultiple"`
	ExpectedResult string   `json:"expected_result"`
	Reason         string   `json:"reason,omitempty"`
}

// KubeBench writes kube-bench's --json document: one Controls for the
// kubelet section ("4"/"3" as the benchmark numbers it, node_type "node")
// and one for the hygiene checks, with per-group and overall totals.
// kube-bench has no ERROR state: ERROR becomes WARN with the reason, as
// kube-bench reports checks whose audit failed.
func KubeBench(w io.Writer, r checks.Report) error {
	out := kbOverall{Controls: []kbControls{}}
	for _, grp := range []string{"kubelet", "hygiene"} {
		if c, ok := kbControl(r, grp); ok {
			out.Controls = append(out.Controls, c)
			out.Totals.add(c.kbSummary)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write kube-bench json: %w", err)
	}
	return nil
}

func (s *kbSummary) add(o kbSummary) {
	s.Pass += o.Pass
	s.Fail += o.Fail
	s.Warn += o.Warn
	s.Info += o.Info
}

// kbControl builds the Controls of one result group.
func kbControl(r checks.Report, group string) (kbControls, bool) {
	c := kbControls{Version: r.Benchmark, DetectedVersion: r.KubeletVersion, Type: "node"}
	g := kbGroup{Checks: []kbCheck{}}
	for _, res := range r.Results {
		if res.Group != group {
			continue
		}
		kc := kbCheckOf(res)
		g.count(kc.Status)
		g.Checks = append(g.Checks, kc)
	}
	if len(g.Checks) == 0 {
		return c, false
	}
	c.ID, c.Text, g.ID, g.Text = "X", "Node iptables hygiene (exposure)", "X.1", "iptables ownership and persistence"
	if group == "kubelet" {
		sec := section(r)
		c.ID, c.Text, g.ID, g.Text = strings.Split(sec, ".")[0], "Worker Node Security Configuration", sec, "Kubelet"
	}
	c.Groups = []kbGroup{g}
	c.kbSummary = kbSummary{Pass: g.Pass, Fail: g.Fail, Warn: g.Warn, Info: g.Info}
	return c, true
}

// section is the benchmark's kubelet section: 3.2 for the managed-service
// benchmarks (AKS, EKS, GKE), 4.2 otherwise.
func section(r checks.Report) string {
	for _, res := range r.Results {
		if res.Group == "kubelet" && strings.HasPrefix(res.ID, "3.2.") {
			return "3.2"
		}
	}
	return "4.2"
}

func (g *kbGroup) count(status string) {
	switch status {
	case "PASS":
		g.Pass++
	case "FAIL":
		g.Fail++
	case "WARN":
		g.Warn++
	case "INFO":
		g.Info++
	}
}

// kbCheckOf maps a result to a kube-bench check.
func kbCheckOf(res checks.Result) kbCheck {
	kc := kbCheck{ID: res.ID, Text: res.Title, Audit: auditText(res), Remediation: res.Remediation,
		TestInfo: []string{res.Remediation}, Status: string(res.Status), ActualValue: res.Evidence.Actual,
		Scored: res.Scored, ExpectedResult: res.Evidence.Expected}
	if !res.Scored && res.Status == checks.Fail {
		kc.Status = string(checks.Warn)
	}
	if res.Status == checks.Error {
		kc.Status, kc.Reason = string(checks.Warn), res.Message
	}
	if res.Remediation == "" {
		kc.TestInfo = []string{}
	}
	return kc
}

// auditText says where the value was read, in place of kube-bench's shell
// command.
func auditText(res checks.Result) string {
	e := res.Evidence
	if e.Path == "" {
		return string(e.Layer)
	}
	return string(e.Layer) + ": " + e.Path
}
