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
}

var errOpenQuote = errors.New("unterminated quoted string")

// tokenize splits a rule line into arguments the way iptables-restore does
// (xshared.c add_param_to_argv): blanks separate arguments; double quotes
// group, and inside them a backslash escapes the next character.
func tokenize(line string) ([]token, error) {
	var out []token
	var b strings.Builder
	inTok, quoted, escaped := false, false, false
	start := 0
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case escaped:
			b.WriteByte(ch)
			escaped = false
		case quoted && ch == '\\':
			escaped = true
		case ch == '"':
			if !inTok {
				inTok, start = true, i
			}
			quoted = !quoted
		case !quoted && (ch == ' ' || ch == '\t'):
			if inTok {
				out = append(out, token{b.String(), start + 1})
				b.Reset()
				inTok = false
			}
		default:
			if !inTok {
				inTok, start = true, i
			}
			b.WriteByte(ch)
		}
	}
	if quoted {
		return out, errOpenQuote
	}
	if inTok {
		out = append(out, token{b.String(), start + 1})
	}
	return out, nil
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
