package logs

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Recogniser reads the lines of one component. It is stateful (CRI-O's pod
// context, firewalld's zone object numbers), so one Recogniser reads one
// stream at a time, lines in order.
type Recogniser interface {
	// Source is the component the recogniser reads.
	Source() Source
	// Needles are literal substrings; every line the recogniser can use
	// contains at least one. The scanner hands over no other line.
	Needles() []string
	// Recognise reads one line. It returns nil for lines it does not use
	// and a *LineError for a line it claims but cannot read.
	Recognise(rec *Record, tc *TimeContext, emit func(Event)) error
	// Flush emits what the recogniser still holds at the end of a stream.
	Flush(emit func(Event))
}

// LineError is a line a recogniser claimed but could not read.
type LineError struct {
	Source Source
	Err    error
}

// Error says which source could not read the line and why.
func (e *LineError) Error() string { return fmt.Sprintf("read %s line: %v", e.Source, e.Err) }

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

func lineErr(src Source, format string, args ...any) error {
	return &LineError{Source: src, Err: fmt.Errorf(format, args...)}
}

// Options configure the recognisers.
type Options struct {
	// Services resolves firewalld service names to ports; nil means the
	// embedded defaults of firewalld 1.3.3.
	Services *Services
}

// NewRecognisers returns one recogniser per source, ready for one stream.
func NewRecognisers(opts Options) []Recogniser {
	svc := opts.Services
	if svc == nil {
		svc = DefaultServices()
	}
	return []Recogniser{
		&crio{},
		&ovnkube{},
		newFirewalld(svc),
		&kubeProxy{},
		&dockerd{},
	}
}

// eventAt fills the common fields of an event read from rec: the time is
// the component's own when it carries a full date and zone (own, full),
// else the wrapper's, else the component's completed one.
func eventAt(rec *Record, own time.Time, full bool, src Source, act Action) Event {
	t := own
	if !full && !rec.Time.IsZero() {
		t = rec.Time
	}
	return Event{Time: t, Source: src, Action: act,
		Evidence: Evidence{File: rec.File, Line: rec.Line, Text: evidenceText(rec.Text)}}
}

// maxEvidence caps the evidence text: a CRI-O ruleset line can be 48 KiB.
const maxEvidence = 1024

func evidenceText(b []byte) string {
	if len(b) <= maxEvidence {
		return string(b)
	}
	cut := maxEvidence
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

// unitIs reports whether a journal unit or syslog identifier belongs to the
// component; lines without one (plain files) always do.
func unitIs(unit string, names ...string) bool {
	if unit == "" {
		return true
	}
	for _, n := range names {
		if unit == n {
			return true
		}
	}
	return false
}
