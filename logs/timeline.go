package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Input is one stream of log lines: a file, a rotated or gzipped file,
// stdin or journalctl's output.
type Input struct {
	// Name is what evidence cites as the file.
	Name string
	// Open returns the stream; gzip is detected from its magic bytes.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// ModTime is when the stream was last written, the reference for
	// year-less timestamps; zero means the clock.
	ModTime time.Time
	// Path is the file to follow; empty for stdin and the journal, which
	// are streams already.
	Path string
}

// Reader reads inputs into a Timeline.
type Reader struct {
	// Options configure the recognisers.
	Options Options
	// Time completes year-less and zone-less timestamps; Ref is replaced by
	// each input's ModTime when that is set.
	Time TimeContext
	// Since and Until keep events in [Since, Until) when not zero.
	Since, Until time.Time
	// MaxLine is the longest line read; 0 means DefaultMaxLine.
	MaxLine int
}

// Read reads every input in order and returns the timeline sorted by time.
func (rd *Reader) Read(ctx context.Context, inputs []Input) (*Timeline, error) {
	tl := &Timeline{Events: []Event{}, Problems: []Problem{}, Notes: []Note{}}
	for _, in := range inputs {
		if err := rd.ReadInput(ctx, in, tl, nil); err != nil {
			return nil, err
		}
	}
	SortEvents(tl.Events)
	sortProblems(tl.Problems)
	return tl, nil
}

// ReadInput reads one input into tl; with emit set, events go to emit
// instead of tl.Events (--follow).
func (rd *Reader) ReadInput(ctx context.Context, in Input, tl *Timeline, emit func(Event)) error {
	rc, err := in.Open(ctx)
	if err != nil {
		return fmt.Errorf("open log %s: %w", in.Name, err)
	}
	err = rd.readAll(in, rc, tl, emit)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read log %s: %w", in.Name, cerr)
	}
	return err
}

func (rd *Reader) readAll(in Input, rc io.Reader, tl *Timeline, emit func(Event)) error {
	r, err := decompress(rc)
	if err != nil {
		return fmt.Errorf("read log %s: %w", in.Name, err)
	}
	if err := rd.newStream(in, tl, emit).read(r); err != nil {
		return fmt.Errorf("read log %s: %w", in.Name, err)
	}
	return nil
}

// decompress peeks at the gzip magic (RFC 1952: 0x1f 0x8b).
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	return gzip.NewReader(br)
}

// stream is the state of reading one input.
type stream struct {
	rd   *Reader
	name string
	tc   TimeContext
	recs []Recogniser
	sc   *lineScanner
	tl   *Timeline
	emit func(Event)
	line int
}

func (rd *Reader) newStream(in Input, tl *Timeline, emit func(Event)) *stream {
	st := &stream{rd: rd, name: in.Name, tc: rd.Time, recs: NewRecognisers(rd.Options), tl: tl, emit: emit}
	if !in.ModTime.IsZero() {
		st.tc.Ref = in.ModTime
	}
	var needles []string
	for _, r := range st.recs {
		needles = append(needles, r.Needles()...)
	}
	st.sc = newLineScanner(dedupe(needles), rd.MaxLine)
	return st
}

func (st *stream) read(r io.Reader) error {
	err := st.sc.scan(r, st.line1)
	for _, rc := range st.recs {
		rc.Flush(st.add)
	}
	st.tl.Skipped.add(st.sc.skipped)
	return err
}

// line1 frames and recognises one candidate line.
func (st *stream) line1(n int, line []byte) error {
	rec, err := Frame(line, &st.tc)
	switch {
	case errors.Is(err, errTruncated):
		st.tl.Skipped.Truncated++
		return nil
	case err != nil:
		return nil
	case bytes.IndexByte(rec.Text, 0) >= 0:
		st.tl.Skipped.Binary++
		return nil
	case !utf8.Valid(rec.Text):
		st.tl.Skipped.InvalidUTF8++
		return nil
	}
	rec.File, rec.Line = st.name, n
	for _, rc := range st.recs {
		if err := rc.Recognise(&rec, &st.tc, st.add); err != nil {
			st.problem(&rec, err)
		}
	}
	return nil
}

// problem records a claimed line that could not be read, as the project's
// parser error (a *netfilter.ParseError) reduced to its JSON form.
func (st *stream) problem(rec *Record, err error) {
	pe := &nf.ParseError{File: rec.File, Line: rec.Line, Text: evidenceText(rec.Text), Err: err}
	st.tl.Problems = append(st.tl.Problems, ProblemOf(pe))
}

// add routes one recognised event: notes aside, then the time window.
func (st *stream) add(e Event) {
	if e.Note != "" {
		st.tl.Notes = append(st.tl.Notes, Note{File: e.Evidence.File, Line: e.Evidence.Line, Text: e.Evidence.Text, Note: e.Note})
		return
	}
	if !st.rd.Since.IsZero() && e.Time.Before(st.rd.Since) || !st.rd.Until.IsZero() && !e.Time.Before(st.rd.Until) {
		return
	}
	if st.emit != nil {
		st.emit(e)
		return
	}
	st.tl.Events = append(st.tl.Events, e)
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
