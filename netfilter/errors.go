package netfilter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseError is a problem at a position of a parsed input. Every parser of
// the project returns it (test with errors.As), quoting the offending text.
type ParseError struct {
	File string
	// Line and Col are 1-based; Col counts bytes of the line (0: unknown).
	Line, Col int
	// Text is the offending line (or token), shortened for display.
	Text string
	Err  error
}

// maxQuote bounds how much of a bad line an error quotes.
const maxQuote = 120

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("<input>")
	}
	fmt.Fprintf(&b, ":%d", e.Line)
	if e.Col > 0 {
		fmt.Fprintf(&b, ":%d", e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Text != "" {
		b.WriteString(": ")
		b.WriteString(Quote(e.Text))
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Quote renders text for an error message as a Go-quoted string (control
// bytes and invalid UTF-8 escaped), shortened to about maxQuote bytes of
// output with the original length noted.
func Quote(s string) string {
	q := strconv.Quote(s)
	if len(q) <= maxQuote {
		return q
	}
	cut := maxQuote
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	// Do not end inside an escape sequence.
	if i := strings.LastIndexByte(q[:cut], '\\'); i > cut-6 {
		cut = i
	}
	return q[:cut] + fmt.Sprintf(`..." (%d bytes)`, len(s))
}

// Errorf builds a ParseError.
func Errorf(file string, line, col int, text, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Col: col, Text: text, Err: fmt.Errorf(format, args...)}
}

// ValidationError lists the problems that make the kernel refuse a ruleset
// (a jump to a missing chain, a loop, a target outside the hooks it is
// allowed on, jumps nested deeper than the kernel's stack).
type ValidationError struct {
	Problems []Problem
}

// Problem is one validation problem.
type Problem struct {
	Pos   Pos
	Table string
	Chain string
	Rule  int
	Msg   string
}

func (p Problem) String() string {
	loc := p.Table + " " + p.Chain
	if p.Rule > 0 {
		loc += fmt.Sprintf(" rule %d", p.Rule)
	}
	if p.Pos.Line > 0 {
		return fmt.Sprintf("%s: %s: %s", p.Pos, loc, p.Msg)
	}
	return loc + ": " + p.Msg
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for i, p := range e.Problems {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Problems)-10))
			break
		}
		parts = append(parts, p.String())
	}
	return "invalid ruleset: " + strings.Join(parts, "; ")
}

// IsValidation reports whether err is (or wraps) a ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}
