package iptables

import (
	"errors"
	"strings"
)

// token is one argument of a rule line and the byte column where it starts
// (1-based).
type token struct {
	s   string
	col int
	// end is the byte offset just past the token in its line.
	end int
}

var (
	errOpenQuote = errors.New("unterminated quoted string")
	errBinary    = errors.New("binary data in ruleset")
)

// tokenize splits a rule line into arguments the way iptables-restore does
// (xshared.c add_param_to_argv): blanks separate arguments; double quotes
// group, and inside them a backslash escapes the next character. Tokens
// are substrings of the line unless an escape forces a copy.
func tokenize(line string) ([]token, error) {
	return tokenizeInto(make([]token, 0, 24), line)
}

// tokenizeInto is tokenize appending to out (a reused buffer).
func tokenizeInto(out []token, line string) ([]token, error) {
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		t, next, err := scanToken(line, i)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		i = next
	}
}

// scanToken reads one argument starting at i. It refuses the control
// characters validText refuses, so a worker need not scan a line twice.
func scanToken(line string, i int) (token, int, error) {
	start := i
	quotes, escapes := 0, false
	quoted := false
	for ; i < len(line); i++ {
		c := line[i]
		if c > '"' && c != '\\' {
			continue // the common case: a plain character
		}
		switch {
		case c == '"':
			quoted = !quoted
			quotes++
		case c == '\\':
			if quoted {
				escapes = true
				i++
			}
		case !quoted && (c == ' ' || c == '\t'):
			return makeToken(line, start, i, quotes, escapes), i, nil
		case c < 0x20 && c != '\t':
			return token{}, i, errBinary
		}
	}
	if quoted {
		return token{}, i, errOpenQuote
	}
	return makeToken(line, start, i, quotes, escapes), i, nil
}

// makeToken builds the token for line[start:end], which holds quotes
// double quotes and escapes when a backslash escaped a character inside
// them: the substring itself, the inside of a plain "quoted" argument, or
// an unescaped copy.
func makeToken(line string, start, end, quotes int, escapes bool) token {
	raw := line[start:end]
	if quotes == 0 && !escapes {
		return token{raw, start + 1, end}
	}
	if quotes == 2 && !escapes && raw[0] == '"' && raw[len(raw)-1] == '"' {
		return token{raw[1 : len(raw)-1], start + 1, end}
	}
	var b strings.Builder
	quoted := false
	for k := 0; k < len(raw); k++ {
		switch c := raw[k]; {
		case c == '"':
			quoted = !quoted
		case quoted && c == '\\' && k+1 < len(raw):
			k++
			b.WriteByte(raw[k])
		default:
			b.WriteByte(c)
		}
	}
	return token{b.String(), start + 1, end}
}

// quote renders an argument so that tokenize reads it back unchanged, as
// iptables-save quotes comments.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"\\'") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
