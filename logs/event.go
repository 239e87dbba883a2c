package logs

import (
	"cmp"
	"slices"
	"time"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Source names the component whose log line produced an event.
type Source string

// The sources exposure recognises; the strings are the JSON values.
const (
	SourceCRIO      Source = "crio"
	SourceOVNKube   Source = "ovnkube"
	SourceFirewalld Source = "firewalld"
	SourceKubeProxy Source = "kube-proxy"
	SourceDockerd   Source = "dockerd"
)

// Action says what a log line did to a host port.
type Action string

// Actions. Snapshot is a full listing of a source's ports at one moment (CRI-O
// logs its whole hostport ruleset on every change); fail is a port the
// component tried and failed to open; reload and restart are markers after
// which the component's earlier runtime state no longer holds.
const (
	ActionOpen     Action = "open"
	ActionClose    Action = "close"
	ActionSnapshot Action = "snapshot"
	ActionFail     Action = "fail"
	ActionReload   Action = "reload"
	ActionRestart  Action = "restart"
)

// Firewalld configuration layers, carried in Event.Chain for firewalld events:
// firewalld keeps a runtime and a permanent configuration, and a permanent
// change takes effect only at the next reload (firewall-cmd(1), --permanent).
const (
	LayerRuntime   = "runtime"
	LayerPermanent = "permanent"
)

// Evidence points at the log line an event was read from.
type Evidence struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
}

// Event is one port change read from a log line. Fields a source does not
// log are empty. Port ranges (firewalld "30000-32767") keep the first port in
// Port and the last in PortTo; PortTo is 0 for a single port.
type Event struct {
	Time     time.Time `json:"time"`
	Source   Source    `json:"source"`
	Action   Action    `json:"action"`
	Proto    string    `json:"proto"`
	Port     int       `json:"port"`
	PortTo   int       `json:"port_to,omitempty"`
	Addr     string    `json:"addr"`
	Zone     string    `json:"zone"`
	Chain    string    `json:"chain"`
	To       string    `json:"to"`
	Pod      string    `json:"pod"`
	Evidence Evidence  `json:"evidence"`
	// Family is 4 or 6 when the line says (go-iptables "for protocol: 1",
	// an IPv6 DNAT target), 0 otherwise. Not part of the JSON model.
	Family int `json:"-"`
	// Note, when set, makes this a remark about the log rather than a port
	// change (a firewalld update() that hides its content); it goes to
	// Timeline.Notes. Not part of the JSON model of an event.
	Note string `json:"-"`
}

// SortEvents orders events by time across sources. The sort is stable, so
// events with equal times keep the order they were read in (file order).
func SortEvents(events []Event) {
	slices.SortStableFunc(events, func(a, b Event) int { return a.Time.Compare(b.Time) })
}

// Skipped counts lines that were skipped as unreadable. They never stop a
// run; a malformed line that a recogniser claimed is a Problem instead.
type Skipped struct {
	Binary      int `json:"binary"`
	InvalidUTF8 int `json:"invalid_utf8"`
	TooLong     int `json:"too_long"`
	Truncated   int `json:"truncated"`
}

// Total is the number of skipped lines.
func (s Skipped) Total() int { return s.Binary + s.InvalidUTF8 + s.TooLong + s.Truncated }

func (s *Skipped) add(o Skipped) {
	s.Binary += o.Binary
	s.InvalidUTF8 += o.InvalidUTF8
	s.TooLong += o.TooLong
	s.Truncated += o.Truncated
}

// Problem is a line a recogniser claimed but could not read, reported with
// its file and line so the user can look at it: the JSON form of the
// project's parser error, *netfilter.ParseError.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
	Err  string `json:"error"`
}

// Timeline is the result of reading logs: events sorted by time, the skipped
// line counts and the problems.
type Timeline struct {
	Events   []Event   `json:"events"`
	Skipped  Skipped   `json:"skipped"`
	Problems []Problem `json:"problems"`
	Notes    []Note    `json:"notes"`
}

// Note is a remark about a log line that is not a port change but limits
// what the log shows (a firewalld update() that hides its content, a
// service the catalogue does not know).
type Note struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
	Note string `json:"note"`
}

// ProblemOf reduces a parser error to a Problem.
func ProblemOf(pe *nf.ParseError) Problem {
	return Problem{File: pe.File, Line: pe.Line, Text: pe.Text, Err: pe.Err.Error()}
}

// MergeDiagnostics adds o's skipped counts, problems and notes to t (not
// its events): what several followers of one command could not read.
func (t *Timeline) MergeDiagnostics(o *Timeline) {
	t.Skipped.add(o.Skipped)
	t.Problems = append(t.Problems, o.Problems...)
	t.Notes = append(t.Notes, o.Notes...)
}

func sortProblems(p []Problem) {
	slices.SortStableFunc(p, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}
