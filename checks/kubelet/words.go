package kubelet

import (
	"errors"
	"strings"
)

// errUnterminated reports a quote left open.
var errUnterminated = errors.New("unterminated quote")

// SplitWords splits a command line into words like a POSIX shell (and
// systemd's ExecStart=/Environment= parser, systemd.syntax(7)): whitespace
// separates words, single quotes keep text literally, double quotes keep
// whitespace and honour backslash escapes, a backslash outside quotes escapes
// the next character. No variable or glob expansion happens here.
func SplitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote byte
	)
	// Bytes, not runes: every special character is ASCII, and invalid
	// UTF-8 must pass through unchanged.
	rs := s
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteByte(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs):
				i++
				cur.WriteByte(rs[i])
			default:
				cur.WriteByte(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				cur.WriteByte(rs[i])
				in = true
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, errUnterminated
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// JoinWords is the inverse of SplitWords: words single-quoted where they
// hold blanks, quotes or backslashes, so SplitWords(JoinWords(w)) == w.
func JoinWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, " \t\n'\"\\$`") {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
	}
	return strings.Join(out, " ")
}
