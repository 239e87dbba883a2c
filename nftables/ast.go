package nftables

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// node is one value of the libnftables JSON tree: map[string]any, []any,
// string, json.Number, bool or nil. The text parser builds the same tree.
type node = any

// obj returns n as a JSON object.
func obj(n node) (map[string]any, bool) {
	m, ok := n.(map[string]any)
	return m, ok
}

// single returns the only key of a one-key object ({"payload": {...}}), the
// shape libnftables uses for every expression and statement.
func single(n node) (string, node, bool) {
	m, ok := obj(n)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		return k, v, true
	}
	return "", nil, false
}

// str returns a string or number as text.
func str(n node) (string, bool) {
	switch v := n.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// field returns m[k] as a string ("" if absent).
func field(m map[string]any, k string) string {
	s, _ := str(m[k])
	return s
}

// num parses a JSON number, decimal or 0x-hex text as an unsigned integer.
func num(n node) (uint64, error) {
	s, ok := str(n)
	if !ok {
		return 0, fmt.Errorf("expected a number, got %s", brief(n))
	}
	return parseUint(s)
}

func parseUint(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

// list returns n as a list; a scalar is a one-element list.
func list(n node) []node {
	if l, ok := n.([]any); ok {
		return l
	}
	if n == nil {
		return nil
	}
	return []node{n}
}

// strList returns a string or a list of strings.
func strList(n node) []string {
	var out []string
	for _, x := range list(n) {
		if s, ok := str(x); ok {
			out = append(out, s)
		}
	}
	return out
}

// brief renders a node compactly for error messages.
func brief(n node) string {
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Sprint(n)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// keys lists an object's keys in order, for messages.
func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// maxNesting bounds how deeply a statement or element may nest: nft's own
// grammar never needs more than a few levels; a deeper tree is refused
// before any recursive walk.
const maxNesting = 24

// tooDeep reports whether n nests deeper than maxNesting.
func tooDeep(n node, depth int) bool {
	if depth > maxNesting {
		return true
	}
	switch x := n.(type) {
	case map[string]any:
		for _, v := range x {
			if tooDeep(v, depth+1) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if tooDeep(v, depth+1) {
				return true
			}
		}
	}
	return false
}

var errTooDeep = fmt.Errorf("expression nested more than %d levels", maxNesting)

// jsonNumber makes a JSON number node (tests and the text parser's
// numbers stay strings; both are read the same way).
func jsonNumber(s string) node { return json.Number(s) }
