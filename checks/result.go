// Package checks holds the result model of `exposure check`: one Result per
// node check (CIS kubelet controls, iptables hygiene), with the evidence that
// decided it. Its states are kube-bench's PASS/FAIL/WARN/INFO plus ERROR for a
// check that could not be decided; its severities are the PolicyReport ones
// (wgpolicyk8s.io/v1alpha2: critical, high, medium, low, info).
package checks

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Status is the outcome of a check. PASS, FAIL, WARN and INFO mean what they
// mean in kube-bench (check/check.go State); ERROR marks a check that could
// not be decided (an unreadable file, an unreachable source), never a pass.
type Status string

// The statuses, in the order a summary lists them.
const (
	Pass  Status = "PASS"
	Fail  Status = "FAIL"
	Warn  Status = "WARN"
	Info  Status = "INFO"
	Error Status = "ERROR"
)

// Severity ranks a non-passing result like a PolicyReport result's severity.
type Severity string

// The severities, from the PolicyReport CRD enum.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Note     Severity = "info"
)

// Layer names where a kubelet setting was decided, following the kubelet's
// own precedence: built-in default < --config file < --config-dir drop-in <
// command-line flag; configz is the running kubelet's effective view of all.
type Layer string

// The layers. LayerUnit marks evidence read from systemd units or plain files
// that are not kubelet configuration (hygiene checks).
const (
	LayerDefault Layer = "default"
	LayerFile    Layer = "file"
	LayerDropIn  Layer = "drop-in"
	LayerFlag    Layer = "flag"
	LayerConfigz Layer = "configz"
	LayerUnit    Layer = "unit"
	LayerRules   Layer = "rules"
)

// Evidence is what decided a result: the layer and file (or URL, unit, PID)
// it came from, the value found and the value the check expects.
type Evidence struct {
	Layer    Layer  `json:"layer,omitempty"` // the deciding layer
	Path     string `json:"path,omitempty"`  // file, unit, URL or rule reference
	Actual   string `json:"actual"`          // the value found
	Expected string `json:"expected"`        // the value the check wants
}

// Result is the outcome of one check on one node.
type Result struct {
	// ID is the benchmark's control number (e.g. "4.2.6") or, for checks no
	// benchmark has, a stable slug (e.g. "kubelet-bind").
	ID string `json:"id"`
	// Benchmark is the kube-bench benchmark the ID belongs to (e.g. "cis-1.10").
	Benchmark string `json:"benchmark,omitempty"`
	// Group is the section: "kubelet" or "hygiene".
	Group string `json:"group"`
	// Title is the benchmark's recommendation text, or ours.
	Title string `json:"title"`
	// Status is the outcome.
	Status Status `json:"status"`
	// Severity ranks the control, whatever its status.
	Severity Severity `json:"severity"`
	// Scored mirrors the benchmark's Automated (true) / Manual (false).
	Scored bool `json:"scored"`
	// Message is a one-line finding.
	Message string `json:"message,omitempty"`
	// Evidence is what decided the status.
	Evidence Evidence `json:"evidence"`
	// Remediation says what to change, and where, when the status is not PASS.
	Remediation string `json:"remediation,omitempty"`
}

// Report is every result for one node, with what the checks were run against.
type Report struct {
	Node           string   `json:"node,omitempty"`            // node name
	Platform       string   `json:"platform,omitempty"`        // detected platform
	KubeletVersion string   `json:"kubelet_version,omitempty"` // kubelet version, when known
	Benchmark      string   `json:"benchmark,omitempty"`       // kube-bench benchmark selected
	Results        []Result `json:"results"`                   // sorted; [] when empty
}

// Summary counts results per status.
type Summary struct {
	Pass  int `json:"pass"`  // PASS results
	Fail  int `json:"fail"`  // FAIL results
	Warn  int `json:"warn"`  // WARN results
	Info  int `json:"info"`  // INFO results
	Error int `json:"error"` // ERROR results
}

// Summarize counts the results of r by status.
func (r Report) Summarize() Summary {
	var s Summary
	for _, res := range r.Results {
		switch res.Status {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Warn:
			s.Warn++
		case Info:
			s.Info++
		case Error:
			s.Error++
		}
	}
	return s
}

// HasFailure reports whether any result FAILed, what --exit-code acts on.
func (r Report) HasFailure() bool { return r.Summarize().Fail > 0 }

// Sort orders results by group (kubelet first) then by ID, comparing dotted
// numbers numerically so that 4.2.10 follows 4.2.9.
func (r *Report) Sort() {
	if r.Results == nil {
		r.Results = []Result{}
	}
	slices.SortStableFunc(r.Results, func(a, b Result) int {
		if c := cmp.Compare(groupRank(a.Group), groupRank(b.Group)); c != 0 {
			return c
		}
		return CompareIDs(a.ID, b.ID)
	})
}

func groupRank(g string) int {
	if g == "kubelet" {
		return 0
	}
	return 1
}

// CompareIDs compares control IDs field by field, numerically where both
// fields are numbers; numbered IDs sort before slugs.
func CompareIDs(a, b string) int {
	af, bf := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(af) && i < len(bf); i++ {
		an, aerr := strconv.Atoi(af[i])
		bn, berr := strconv.Atoi(bf[i])
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmp.Compare(an, bn)
		case aerr == nil:
			c = -1
		case berr == nil:
			c = 1
		default:
			c = strings.Compare(af[i], bf[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(af), len(bf))
}
