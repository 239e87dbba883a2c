package nftables

import (
	"errors"
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// maxDepth bounds nesting of parentheses and braces in text input.
const maxDepth = 32

// textParser reads nft text into items for the builder.
type textParser struct {
	src  string
	file string
	toks []token
	// handles are the `# handle N` comments by newline token index.
	handles map[int]string
	i       int
	b       *builder
	depth   int
}

// errUnsupported marks constructs ParseText does not read.
var errUnsupported = errors.New("not supported")

func newTextParser(data []byte, file string) (*textParser, error) {
	toks, handles, err := lex(data, file)
	if err != nil {
		return nil, err
	}
	return &textParser{src: string(data), file: file, toks: toks, handles: handles, b: newBuilder(file)}, nil
}

func (p *textParser) peek() token { return p.toks[p.i] }

func (p *textParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// is reports whether the next token is the word or punctuation s.
func (p *textParser) is(s string) bool {
	t := p.peek()
	return (t.kind == tokWord || t.kind == tokPunct) && t.s == s
}

func (p *textParser) accept(s string) bool {
	if p.is(s) {
		p.i++
		return true
	}
	return false
}

// lineText returns the source line of a token.
func (p *textParser) lineText(t token) string {
	start := strings.LastIndexByte(p.src[:min(int(t.off), len(p.src))], '\n') + 1
	end := strings.IndexByte(p.src[start:], '\n')
	if end < 0 {
		end = len(p.src) - start
	}
	return p.src[start : start+end]
}

func (p *textParser) errorf(t token, format string, args ...any) error {
	return nf.Errorf(p.file, int(t.line), int(t.col), p.lineText(t), format, args...)
}

func (p *textParser) expect(s string) error {
	t := p.next()
	if (t.kind == tokWord || t.kind == tokPunct) && t.s == s {
		return nil
	}
	return p.errorf(t, "expected %q, got %s", s, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tokNL:
		return "end of line"
	case tokEOF:
		return "end of input"
	case tokString:
		return fmt.Sprintf("string %q", t.s)
	}
	return fmt.Sprintf("%q", t.s)
}

// name reads a word or a quoted string (table, chain and set names).
func (p *textParser) name() (string, error) {
	t := p.next()
	if t.kind == tokWord || t.kind == tokString {
		return t.s, nil
	}
	return "", p.errorf(t, "expected a name, got %s", describe(t))
}

func (p *textParser) skipBlank() {
	for p.peek().kind == tokNL || p.is(";") {
		p.i++
	}
}

// endOfStmt: a newline, ";", "}" or the end ends a statement.
func (p *textParser) endOfStmt() bool {
	t := p.peek()
	return t.kind == tokNL || t.kind == tokEOF || t.kind == tokPunct && (t.s == ";" || t.s == "}")
}

// apply hands an item to the builder.
func (p *textParser) apply(kind string, t token, m map[string]any) error {
	return p.b.apply(item{kind: kind, obj: m, line: int(t.line), col: int(t.col), text: strings.TrimSpace(p.lineText(t))})
}

// parseAll reads the whole input.
func (p *textParser) parseAll() error {
	for {
		p.skipBlank()
		t := p.peek()
		if t.kind == tokEOF {
			return nil
		}
		if err := p.command(); err != nil {
			return err
		}
	}
}

// command reads one top-level command.
func (p *textParser) command() error {
	t := p.next()
	if t.kind != tokWord {
		return p.errorf(t, "expected a command, got %s", describe(t))
	}
	switch t.s {
	case "table":
		return p.table(t)
	case "add", "create", "insert":
		return p.addCommand(t)
	case "flush":
		return p.flushCommand(t)
	case "include", "define", "redefine", "undefine":
		return p.errorf(t, "%q: %w (expand the script first, e.g. with nft -c -f and list ruleset)", t.s, errUnsupported)
	}
	return p.errorf(t, "command %q: %w", t.s, errUnsupported)
}

// familyName reads `[family] name` (the family defaults to ip).
func (p *textParser) familyName() (string, string, error) {
	a, err := p.name()
	if err != nil {
		return "", "", err
	}
	if _, ok := families[a]; ok && (p.peek().kind == tokWord || p.peek().kind == tokString) {
		n, err := p.name()
		return a, n, err
	}
	return "ip", a, nil
}

func (p *textParser) table(t token) error {
	fam, name, err := p.familyName()
	if err != nil {
		return err
	}
	m := map[string]any{"family": fam, "name": name}
	if !p.accept("{") {
		return p.apply("table", t, m)
	}
	if err := p.apply("table", t, m); err != nil {
		return err
	}
	return p.tableBody(fam, name)
}

func (p *textParser) tableBody(fam, table string) error {
	for {
		p.skipBlank()
		t := p.next()
		if t.kind == tokPunct && t.s == "}" {
			return nil
		}
		if err := p.tableItem(t, fam, table); err != nil {
			return err
		}
	}
}

func (p *textParser) tableItem(t token, fam, table string) error {
	switch t.s {
	case "flags":
		flags := p.wordList()
		if tb := p.b.tables[fam+" "+table]; tb != nil {
			for _, f := range flags {
				tb.Dormant = tb.Dormant || f == "dormant"
			}
		}
		return nil
	case "comment":
		_, err := p.name()
		return err
	case "chain":
		return p.chainDecl(t, fam, table)
	case "set", "map":
		return p.setDecl(t, fam, table)
	case "flowtable":
		return p.flowtable(t, fam, table)
	case "counter", "quota", "limit", "ct", "secmark", "synproxy":
		return p.skipObject(t)
	}
	return p.errorf(t, "table item %s: %w", describe(t), errUnsupported)
}

// wordList reads comma-separated words (`flags dynamic,timeout`).
func (p *textParser) wordList() []string {
	var out []string
	for p.peek().kind == tokWord {
		out = append(out, p.next().s)
		if !p.accept(",") {
			break
		}
	}
	return out
}

// skipObject skips a named stateful object block (`counter c { … }`).
func (p *textParser) skipObject(t token) error {
	for !p.is("{") {
		if p.peek().kind == tokEOF || p.peek().kind == tokNL {
			return p.errorf(t, "expected a block after %q", t.s)
		}
		p.next()
	}
	return p.skipBlock()
}

func (p *textParser) skipBlock() error {
	open := p.next()
	for n := 1; n > 0; {
		t := p.next()
		switch {
		case t.kind == tokEOF:
			return p.errorf(open, "unclosed \"{\"")
		case t.kind == tokPunct && t.s == "{":
			n++
		case t.kind == tokPunct && t.s == "}":
			n--
		}
	}
	return nil
}

func (p *textParser) chainDecl(t token, fam, table string) error {
	name, err := p.name()
	if err != nil {
		return err
	}
	m := map[string]any{"family": fam, "table": table, "name": name}
	if !p.accept("{") {
		return p.apply("chain", t, m)
	}
	return p.chainBody(t, m)
}

// chainBody reads a chain block: its type/hook/priority/policy line and
// its rules, one per line.
func (p *textParser) chainBody(t token, m map[string]any) error {
	declared := false
	for {
		p.skipBlank()
		x := p.peek()
		if x.kind == tokPunct && x.s == "}" {
			p.next()
			if !declared {
				return p.apply("chain", t, m)
			}
			return nil
		}
		if x.kind == tokEOF {
			return p.errorf(t, "chain %q is not closed", m["name"])
		}
		if !declared && p.chainSpec(m) {
			continue
		}
		if !declared {
			if err := p.apply("chain", t, m); err != nil {
				return err
			}
			declared = true
		}
		if err := p.rule(m["family"].(string), m["table"].(string), m["name"].(string), false); err != nil {
			return err
		}
	}
}

// chainSpec reads `type T hook H [device D] priority P`, `policy P`,
// `comment "…"` or `devices = { … }` into m.
func (p *textParser) chainSpec(m map[string]any) bool {
	switch {
	case p.accept("type"):
		m["type"] = p.next().s
		for p.peek().kind == tokWord {
			switch p.next().s {
			case "hook":
				m["hook"] = p.next().s
			case "device":
				m["dev"] = p.next().s
			case "priority":
				m["prio"] = p.priorityText()
			}
		}
	case p.accept("policy"):
		m["policy"] = p.next().s
	case p.accept("comment"):
		p.next()
	case p.accept("devices"):
		p.accept("=")
		m["dev"] = p.braceWords()
	default:
		return false
	}
	return true
}

// priorityText reads `filter + 10`, `-110`, `dstnat - 10` up to ";".
func (p *textParser) priorityText() string {
	var parts []string
	for p.peek().kind == tokWord {
		parts = append(parts, p.next().s)
	}
	return strings.Join(parts, " ")
}

// braceWords reads `{ a, b }` or a single word.
func (p *textParser) braceWords() []any {
	var out []any
	if !p.accept("{") {
		return []any{p.next().s}
	}
	for !p.is("}") && p.peek().kind != tokEOF {
		t := p.next()
		if t.kind == tokWord || t.kind == tokString {
			out = append(out, t.s)
		}
	}
	p.accept("}")
	return out
}

func (p *textParser) flowtable(t token, fam, table string) error {
	name, err := p.name()
	if err != nil {
		return err
	}
	if p.is("{") {
		if err := p.skipBlock(); err != nil {
			return err
		}
	}
	return p.apply("flowtable", t, map[string]any{"family": fam, "table": table, "name": name})
}

// addCommand reads `add|create|insert table|chain|rule|set|map|element|flowtable …`.
func (p *textParser) addCommand(cmd token) error {
	t := p.next()
	switch t.s {
	case "table":
		return p.table(t)
	case "chain":
		fam, table, err := p.familyName()
		if err != nil {
			return err
		}
		return p.chainDecl(t, fam, table)
	case "rule":
		return p.addRule(cmd.s == "insert")
	case "set", "map":
		fam, table, err := p.familyName()
		if err != nil {
			return err
		}
		return p.setDecl(t, fam, table)
	case "element":
		return p.addElement(t)
	case "flowtable":
		fam, table, err := p.familyName()
		if err != nil {
			return err
		}
		return p.flowtable(t, fam, table)
	case "counter", "quota", "limit", "ct", "secmark", "synproxy":
		for !p.endOfStmt() {
			if p.is("{") {
				return p.skipBlock()
			}
			p.next()
		}
		return nil
	}
	return p.errorf(t, "%s %s: %w", cmd.s, describe(t), errUnsupported)
}

func (p *textParser) addRule(insert bool) error {
	fam, table, err := p.familyName()
	if err != nil {
		return err
	}
	chain, err := p.name()
	if err != nil {
		return err
	}
	for p.is("handle") || p.is("position") || p.is("index") {
		p.next()
		p.next()
	}
	return p.rule(fam, table, chain, insert)
}

func (p *textParser) flushCommand(cmd token) error {
	t := p.next()
	var m map[string]any
	switch t.s {
	case "ruleset":
		if p.peek().kind == tokWord {
			return p.errorf(p.peek(), "flush ruleset FAMILY: %w", errUnsupported)
		}
	case "table":
		fam, name, err := p.familyName()
		if err != nil {
			return err
		}
		m = map[string]any{"family": fam, "name": name}
	case "chain", "set", "map":
		fam, table, err := p.familyName()
		if err != nil {
			return err
		}
		name, err := p.name()
		if err != nil {
			return err
		}
		m = map[string]any{"family": fam, "table": table, "name": name}
		if t.s != "chain" {
			return p.flushSet(cmd, m)
		}
	default:
		return p.errorf(t, "flush %s: %w", describe(t), errUnsupported)
	}
	if err := p.b.flush(t.s, m); err != nil {
		return p.errorf(cmd, "%w", err)
	}
	return nil
}

func (p *textParser) flushSet(cmd token, m map[string]any) error {
	tb, err := p.b.table(map[string]any{"family": m["family"], "table": m["table"]})
	if err != nil {
		return p.errorf(cmd, "flush set: %w", err)
	}
	if s := tb.Sets[m["name"].(string)]; s != nil {
		s.Elements = nil
		s.BuildIndex()
	}
	return nil
}
