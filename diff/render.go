package diff

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/exposure-audit/exposure/report"
)

// Formats are the output formats Write knows.
var Formats = []string{"table", "json", "yaml"}

// Write renders r in format (table, json or yaml) to w.
func Write(w io.Writer, format string, r *Result) error {
	switch format {
	case "json":
		return report.JSON(w, r)
	case "yaml":
		return report.YAML(w, r)
	case "table":
		return Table(w, r)
	}
	return fmt.Errorf("write diff: unknown format %q (want %s)", format, strings.Join(Formats, "|"))
}

// Table prints the changes for people: one row per change (a changed rule
// shows its old text on a second row), then a summary, the exposure
// changes and the notes.
func Table(w io.Writer, r *Result) error {
	ew := &errWriter{w: w}
	if len(r.Changes) == 0 {
		ew.printf("no differences\n")
	} else {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANGE\tWRITER\tTABLE\tCHAIN/SET\tPOS\tRULE")
		for _, c := range r.Changes {
			writeRow(tw, c)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write diff: %w", err)
		}
		ew.printf("\n%s\n", summaryLine(r.Summary))
	}
	writeExposure(ew, r.ExposureChanges)
	for _, n := range r.Notes {
		ew.printf("note: %s\n", n)
	}
	return ew.err
}

func writeRow(w io.Writer, c Change) {
	where := c.Chain
	if c.Set != "" {
		where = "@" + c.Set
	}
	table := c.Family + " " + c.Table
	if c.Backend == "iptables-legacy" {
		table += " (legacy)"
	}
	lead := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t", c.Kind, c.Writer, table, where, position(c))
	switch {
	case c.TextBefore != "" && c.TextAfter != "" && c.TextBefore != c.TextAfter:
		fmt.Fprintf(w, "%s- %s\n\t\t\t\t\t+ %s\n", lead, c.TextBefore, c.TextAfter)
	default:
		fmt.Fprintf(w, "%s%s\n", lead, cellText(c))
	}
}

// cellText is what the RULE column shows for a one-row change.
func cellText(c Change) string {
	text := c.TextAfter
	if text == "" {
		text = c.TextBefore
	}
	switch c.Kind {
	case ChainAdded, ChainRemoved, ChainEmptied, TableAdded, TableRemoved:
		if n := ruleCount(c); n != "" {
			text = strings.TrimPrefix(text+", "+n, ", ")
		}
	}
	return text
}

func ruleCount(c Change) string {
	n := c.RulesAfter
	if c.Kind == ChainRemoved || c.Kind == TableRemoved || c.Kind == ChainEmptied {
		n = c.RulesBefore
	}
	if n == nil {
		return ""
	}
	if c.Kind == ChainEmptied {
		return fmt.Sprintf("had %d rule(s)", *n)
	}
	return fmt.Sprintf("%d rule(s)", *n)
}

// position reads "before->after", leaving out the side without the rule:
// "->3" inserted at 3, "3->" deleted from 3, "5->2" moved.
func position(c Change) string {
	if c.PositionBefore == 0 && c.PositionAfter == 0 {
		return ""
	}
	side := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	return side(c.PositionBefore) + "->" + side(c.PositionAfter)
}

func summaryLine(s Summary) string {
	return fmt.Sprintf("%d change(s): %s; by writer: %s", s.Total, countList(s.ByKind), countList(s.ByWriter))
}

// countList prints "a 2, b 1" sorted by name.
func countList[K ~string](m map[K]int) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func writeExposure(ew *errWriter, es []ExposureChange) {
	if len(es) == 0 {
		return
	}
	ew.printf("\nexposure changes:\n")
	for _, e := range es {
		ports := fmt.Sprint(e.PortFrom)
		if e.PortTo != e.PortFrom {
			ports += fmt.Sprintf("-%d", e.PortTo)
		}
		addr := e.Addr
		if strings.Contains(addr, ":") {
			addr = "[" + addr + "]"
		}
		ew.printf("  %s %s:%s on %s: %s -> %s", e.Proto, addr, ports, e.Iface, e.Before, e.After)
		if len(e.To) > 0 {
			ew.printf(" (to %s)", strings.Join(e.To, ", "))
		}
		if len(e.ToBefore) > 0 && !slices.Equal(e.To, e.ToBefore) {
			ew.printf(" (was to %s)", strings.Join(e.ToBefore, ", "))
		}
		ew.printf(" [%s]\n", e.Writer)
		for _, why := range e.Why {
			ew.printf("      %s\n", why)
		}
	}
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

// Write implements io.Writer.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
