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

// token is one token with its 1-based line and column and byte offset
// (32 bytes: a 10,000-Service kube-proxy ruleset has millions).
type token struct {
	s    string
	line int32
	col  int32
	off  int32
	kind tokKind
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

// maxInput is the largest text input (token offsets are 32-bit).
const maxInput = 1<<31 - 1

// lex splits nft text into tokens. Newlines are tokens (they end rules);
// `#` comments are dropped, except that a `# handle N` comment is kept for
// the newline token that follows it (handles, by token index).
func lex(data []byte, file string) ([]token, map[int]string, error) {
	src := string(data)
	if len(src) > maxInput {
		return nil, nil, nf.Errorf(file, 1, 0, "", "input of %d bytes is too large", len(src))
	}
	toks := make([]token, 0, len(src)/6+2)
	handles := map[int]string{}
	line, lineStart := 1, 0
	handle := ""
	for i := 0; i < len(src); {
		c := src[i]
		col := i - lineStart + 1
		switch {
		case c == '\n':
			if handle != "" {
				handles[len(toks)] = handle
			}
			toks = append(toks, tok(tokNL, "", line, col, i))
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
				return nil, nil, lexErr(src, file, line, lineStart, col, "unterminated string")
			}
			toks = append(toks, tok(tokString, src[i+1:i+1+end], line, col, i))
			i += end + 2
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, tok(tokWord, src[i:j], line, col, i))
			i = j
		default:
			n := punctLen(src[i:])
			if n == 0 {
				return nil, nil, lexErr(src, file, line, lineStart, col, "unexpected character %q")
			}
			toks = append(toks, tok(tokPunct, src[i:i+n], line, col, i))
			i += n
		}
	}
	if handle != "" {
		handles[len(toks)] = handle
	}
	toks = append(toks, tok(tokNL, "", line, 0, len(src)))
	return append(toks, tok(tokEOF, "", line, 0, len(src))), handles, nil
}

func tok(k tokKind, s string, line, col, off int) token {
	return token{kind: k, s: s, line: int32(line), col: int32(col), off: int32(off)}
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
