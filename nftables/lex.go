package nftables

import (
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// tokKind is the kind of a token of nft's text syntax.
type tokKind uint8

const (
	tokWord tokKind = iota
	tokString
	tokPunct
	tokNL
	tokEOF
)

// token is one token with its 1-based line and column and byte offset.
type token struct {
	kind tokKind
	s    string
	line int
	col  int
	off  int
	// handle is set on a newline token that ended a `# handle N` comment.
	handle string
}

// isWordByte: the characters of names, numbers, addresses, prefixes,
// ranges, set references and rates (`10.0.0.0/8`, `30000-32767`,
// `[fd00::1]:80`, `@set`, `5/second`, `eth*`).
func isWordByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_./:-*@$[]~+%", c) >= 0 || c >= 0x80
}

// lex splits nft text into tokens. Newlines are tokens (they end rules);
// `#` comments are dropped, except that a `# handle N` comment is kept on
// the newline token that follows it.
func lex(data []byte, file string) ([]token, error) {
	src := string(data)
	var toks []token
	line, lineStart := 1, 0
	handle := ""
	for i := 0; i < len(src); {
		c := src[i]
		col := i - lineStart + 1
		switch {
		case c == '\n':
			toks = append(toks, token{kind: tokNL, line: line, col: col, off: i, handle: handle})
			handle = ""
			i++
			line, lineStart = line+1, i
		case c == ' ' || c == '\t' || c == '\r' || c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			if c == '\\' {
				i++
				line, lineStart = line+1, i+1
			}
			i++
		case c == '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			if f := strings.Fields(src[i+1 : i+end]); len(f) == 2 && f[0] == "handle" {
				handle = f[1]
			}
			i += end
		case c == '"':
			end := strings.IndexAny(src[i+1:], "\"\n")
			if end < 0 || src[i+1+end] != '"' {
				return nil, lexErr(src, file, line, lineStart, col, "unterminated string")
			}
			toks = append(toks, token{kind: tokString, s: src[i+1 : i+1+end], line: line, col: col, off: i})
			i += end + 2
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tokWord, s: src[i:j], line: line, col: col, off: i})
			i = j
		default:
			n := punctLen(src[i:])
			if n == 0 {
				return nil, lexErr(src, file, line, lineStart, col, "unexpected character %q")
			}
			toks = append(toks, token{kind: tokPunct, s: src[i : i+n], line: line, col: col, off: i})
			i += n
		}
	}
	toks = append(toks, token{kind: tokNL, line: line, off: len(src), handle: handle})
	return append(toks, token{kind: tokEOF, line: line, off: len(src)}), nil
}

func punctLen(s string) int {
	for _, op := range []string{"==", "!=", "<=", ">=", "<<", ">>"} {
		if strings.HasPrefix(s, op) {
			return 2
		}
	}
	if strings.IndexByte("{}(),;|&^=!<>", s[0]) >= 0 {
		return 1
	}
	return 0
}

func lexErr(src, file string, line, lineStart, col int, msg string) error {
	end := strings.IndexByte(src[lineStart:], '\n')
	if end < 0 {
		end = len(src) - lineStart
	}
	text := src[lineStart : lineStart+end]
	if strings.Contains(msg, "%q") {
		return nf.Errorf(file, line, col, text, msg, src[lineStart+col-1:lineStart+col])
	}
	return nf.Errorf(file, line, col, text, "%s", msg)
}
