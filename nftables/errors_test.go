package nftables

import (
	"errors"
	"strings"
	"testing"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// TestParseTextErrors: every refusal is a *ParseError at the offending
// line and column, quoting the line and naming the construct.
func TestParseTextErrors(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		line, col int
		want      string
	}{
		{"bad address", "table ip t {\n\tchain c {\n\t\tip saddr 1.2.3 accept\n\t}\n}\n", 3, 3, `invalid address "1.2.3"`},
		{"unsupported statement", "table ip t {\n\tchain c {\n\t\tmeter m { ip saddr limit rate 1/second } accept\n\t}\n}\n", 3, 3, `statement "meter": not supported`},
		{"define", "define ports = { 22, 80 }\n", 1, 1, `"define": not supported`},
		{"unterminated string", "table ip t {\n\tcomment \"x\n}\n", 2, 10, "unterminated string"},
		{"missing table", "add rule ip t c accept\n", 1, 17, `table "ip t" does not exist`},
		{"unknown hook", "table ip t {\n\tchain c {\n\t\ttype filter hook sideways priority 0;\n\t}\n}\n", 2, 2, `unknown hook "sideways"`},
		{"bad priority", "table ip t {\n\tchain c {\n\t\ttype filter hook input priority bogus;\n\t}\n}\n", 2, 2, `invalid priority "bogus"`},
		{"unknown command", "list ruleset\n", 1, 1, `command "list": not supported`},
		{"unclosed set", "table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 1.1.1.1,\n", 4, 14, `unclosed "{"`},
		{"jump nowhere is for Validate", "", 0, 0, ""},
		{"unknown set type", "table ip t {\n\tset s {\n\t\ttype frobnicator\n\t}\n}\n", 2, 2, `unsupported set data type "frobnicator"`},
		{"tcp option", "table ip t {\n\tchain c {\n\t\ttcp option maxseg size 1400 accept\n\t}\n}\n", 3, 7, `"tcp option": not supported`},
		{"stray character", "table ip t {\n\tchain c {\n\t\taccept ?\n\t}\n}\n", 3, 10, `unexpected character "?"`},
		{"address range of two families", "table ip t {\n\tchain c {\n\t\tip saddr 10.0.0.1-::1 accept\n\t}\n}\n", 3, 3, `invalid address range "10.0.0.1-::1"`},
		{"expression without value", "table ip t {\n\tchain c {\n\t\tip saddr\n\t}\n}\n", 3, 11, "expression without a value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseText([]byte(c.in), "in.nft")
			if c.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			checkParseError(t, err, "in.nft", c.line, c.col, c.want)
		})
	}
}

func checkParseError(t *testing.T, err error, file string, line, col int, want string) {
	t.Helper()
	var pe *nf.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v (%T), want a *netfilter.ParseError", err, err)
	}
	if pe.File != file || pe.Line != line || pe.Col != col {
		t.Errorf("got position %s:%d:%d, want %s:%d:%d (%v)", pe.File, pe.Line, pe.Col, file, line, col, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to mention %q", err, want)
	}
	if line > 0 && pe.Text == "" {
		t.Errorf("got no quoted text in %v", err)
	}
}

// TestParseJSONErrors: JSON errors carry the index of the object in the
// "nftables" array as the line.
func TestParseJSONErrors(t *testing.T) {
	table := `{"table":{"family":"ip","name":"t"}}`
	cases := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"not JSON", `{"nftables": [`, 1, "decode nft JSON"},
		{"no array", `{"tables": []}`, 1, `no "nftables" array`},
		{"schema", `{"nftables":[{"metainfo":{"json_schema_version":2}}]}`, 1, "json_schema_version 2 is not supported"},
		{"missing chain", `{"nftables":[` + table + `,{"rule":{"family":"ip","table":"t","chain":"c","expr":[]}}]}`, 2, `chain "c" does not exist`},
		{"bad family", `{"nftables":[{"table":{"family":"ipx","name":"t"}}]}`, 1, `unknown family "ipx"`},
		{"bad value", `{"nftables":[` + table + `,{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":"http-ish"}}]}}]}`, 3, `invalid inet_service value "http-ish"`},
		{"unknown object", `{"nftables":[{"frob":{}}]}`, 1, `unsupported object "frob"`},
		{"deep nesting", `{"nftables":[` + table + `,{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","expr":[{"match":{"op":"==","left":` + strings.Repeat(`{"&":[`, 30) + `{"meta":{"key":"mark"}}` + strings.Repeat(`,1]}`, 30) + `,"right":1}}]}}]}`, 3, "nested more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(c.in), "in.json")
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *netfilter.ParseError", err, err)
			}
			if pe.Line != c.line {
				t.Errorf("got line %d, want %d (%v)", pe.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to mention %q", err, c.want)
			}
		})
	}
}
