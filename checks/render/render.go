// Package render writes a checks.Report as a table, JSON, YAML, JUnit XML or
// kube-bench's JSON, each to an io.Writer, in the report's (sorted) order.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/exposure-audit/exposure/checks"
)

// Formats lists the -o values, in help order.
var Formats = []string{"table", "json", "yaml", "junit", "kube-bench"}

// Write renders r in format f.
func Write(w io.Writer, f string, r checks.Report) error {
	switch f {
	case "table", "":
		return Table(w, r)
	case "json":
		return JSON(w, r)
	case "yaml":
		return YAML(w, r)
	case "junit":
		return JUnit(w, r)
	case "kube-bench":
		return KubeBench(w, r)
	}
	return fmt.Errorf("render report: unknown format %q (want %s)", f, strings.Join(Formats, ", "))
}

// Table writes one line per result (status, ID, severity, title, layer and
// actual value), then the message and, for non-passing results, the
// remediation, then the totals.
func Table(w io.Writer, r checks.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Node %s  platform %s  benchmark %s  kubelet %s\n\n", orDash(r.Node), orDash(r.Platform), orDash(r.Benchmark), orDash(r.KubeletVersion))
	fmt.Fprintln(tw, "STATUS\tID\tSEVERITY\tTITLE\tLAYER\tACTUAL\tEXPECTED")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", res.Status, res.ID, res.Severity, res.Title,
			orDash(string(res.Evidence.Layer)), orDash(clip(res.Evidence.Actual, 60)), orDash(res.Evidence.Expected))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, res := range r.Results {
		if res.Status == checks.Pass {
			continue
		}
		fmt.Fprintf(w, "\n[%s] %s %s\n", res.Status, res.ID, res.Title)
		fmt.Fprintf(w, "  %s\n", res.Message)
		if res.Evidence.Path != "" {
			fmt.Fprintf(w, "  evidence: %s %s = %q\n", orDash(string(res.Evidence.Layer)), res.Evidence.Path, res.Evidence.Actual)
		}
		if res.Remediation != "" {
			fmt.Fprintf(w, "  remediation: %s\n", res.Remediation)
		}
	}
	s := r.Summarize()
	_, err := fmt.Fprintf(w, "\n%d pass, %d fail, %d warn, %d info, %d error\n", s.Pass, s.Fail, s.Warn, s.Info, s.Error)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// jsonReport is the JSON/YAML document: the report plus its summary.
type jsonReport struct {
	checks.Report
	Summary checks.Summary `json:"summary"`
}

// JSON writes {"node":…, "results":[…], "summary":{…}}; results is [] when
// empty, never null.
func JSON(w io.Writer, r checks.Report) error {
	if r.Results == nil {
		r.Results = []checks.Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonReport{Report: r, Summary: r.Summarize()}); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// YAML writes the JSON document as YAML (sigs.k8s.io/yaml, so keys match).
func YAML(w io.Writer, r checks.Report) error {
	if r.Results == nil {
		r.Results = []checks.Result{}
	}
	b, err := yaml.Marshal(jsonReport{Report: r, Summary: r.Summarize()})
	if err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	_, err = w.Write(b)
	return err
}
