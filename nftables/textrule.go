package nftables

import (
	"strings"
)

// rule reads one rule up to the end of its line (or ";") and adds it.
func (p *textParser) rule(fam, table, chain string, insert bool) error {
	start := p.peek()
	stmts := []any{}
	comment := ""
	for !p.endOfStmt() {
		if p.accept("comment") {
			c, err := p.name()
			if err != nil {
				return err
			}
			comment = c
			continue
		}
		st, err := p.statement()
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
	}
	end, endIdx := p.peek(), p.i
	m := map[string]any{"family": fam, "table": table, "chain": chain, "expr": stmts}
	if comment != "" {
		m["comment"] = comment
	}
	if h := p.handles[endIdx]; h != "" {
		m["handle"] = h
	}
	text := p.src[start.off:end.off]
	if i := strings.LastIndex(text, "# handle "); i >= 0 {
		text = text[:i]
	}
	return p.b.apply(item{kind: "rule", obj: m, line: int(start.line), col: int(start.col),
		text: strings.TrimSpace(text), insert: insert, quote: p.lineText(start)})
}

// statement reads one statement of a rule.
func (p *textParser) statement() (any, error) {
	t := p.peek()
	if t.kind == tokWord {
		if st, ok, err := p.keywordStmt(t); ok || err != nil {
			return st, err
		}
	}
	return p.exprStmt()
}

func (p *textParser) keywordStmt(t token) (any, bool, error) {
	var st any
	var err error
	switch t.s {
	case "accept", "drop", "continue", "return":
		p.next()
		return map[string]any{t.s: nil}, true, nil
	case "jump", "goto":
		p.next()
		var target string
		target, err = p.name()
		st = map[string]any{t.s: map[string]any{"target": target}}
	case "counter":
		st, err = p.counterStmt()
	case "log":
		st, err = p.logStmt()
	case "limit":
		st, err = p.limitStmt()
	case "reject":
		st, err = p.rejectStmt()
	case "dnat", "snat":
		st, err = p.natStmt()
	case "masquerade", "redirect":
		st, err = p.masqStmt()
	case "notrack":
		p.next()
		st = map[string]any{"notrack": nil}
	case "queue":
		st, err = p.queueStmt()
	case "xt":
		p.next()
		typ, name := p.next().s, p.next().s
		st = map[string]any{"xt": map[string]any{"type": typ, "name": name}}
	case "flow":
		p.next()
		p.accept("add")
		p.accept("offload")
		st = map[string]any{"flow": map[string]any{"op": "add", "flowtable": p.next().s}}
	case "add", "update", "delete":
		if nt := p.toks[p.i+1]; nt.kind == tokWord && strings.HasPrefix(nt.s, "@") {
			st, err = p.setStmt()
			break
		}
		return nil, false, nil
	case "meter", "fwd", "dup", "tproxy", "synproxy", "quota", "secmark", "osf", "socket", "jhash", "symhash", "rt", "ipsec", "exthdr", "include":
		return nil, true, p.errorf(t, "statement %q: %w", t.s, errUnsupported)
	default:
		return nil, false, nil
	}
	return st, true, err
}

// relOps are nft's comparison operators, symbols and words.
var relOps = map[string]string{"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
	"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}

// exprStmt reads `EXPR [op] RHS`, `EXPR vmap MAP` or `EXPR set VALUE`.
func (p *textParser) exprStmt() (any, error) {
	left, err := p.concatExpr()
	if err != nil {
		return nil, err
	}
	switch {
	case p.accept("vmap"):
		data, err := p.mapData()
		return map[string]any{"vmap": map[string]any{"key": left, "data": data}}, err
	case p.accept("set"):
		v, err := p.concatExpr()
		return map[string]any{"mangle": map[string]any{"key": left, "value": v}}, err
	}
	op := "in"
	if o, ok := relOps[p.peek().s]; ok && p.peek().kind != tokString {
		op = o
		p.next()
	}
	if p.endOfStmt() {
		return nil, p.errorf(p.peek(), "expression without a value to compare with")
	}
	right, err := p.rhs()
	if err != nil {
		return nil, err
	}
	if p.accept("/") {
		mask, err := p.rhs()
		if err != nil {
			return nil, err
		}
		left, op = map[string]any{"&": []any{left, mask}}, "=="
	}
	return map[string]any{"match": map[string]any{"op": op, "left": left, "right": right}}, nil
}

// rhs reads a right-hand side: an anonymous set, a set reference, or a
// value with `,` (flag list), `|` or `.` continuations.
func (p *textParser) rhs() (any, error) {
	if p.is("{") {
		el, err := p.elements(false)
		return map[string]any{"set": el}, err
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	switch {
	case p.is(","):
		l := []any{v}
		for p.accept(",") {
			x, err := p.value()
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
	case p.is("|"):
		l := []any{v}
		for p.accept("|") {
			x, err := p.value()
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return map[string]any{"|": l}, nil
	case p.is("."):
		return p.concatRest(v)
	}
	return v, nil
}

func (p *textParser) concatRest(first any) (any, error) {
	l := []any{first}
	for p.accept(".") {
		x, err := p.value()
		if err != nil {
			return nil, err
		}
		l = append(l, x)
	}
	return map[string]any{"concat": l}, nil
}

// valueConcat reads `v [. v …]` (set element keys and map values).
func (p *textParser) valueConcat() (any, error) {
	v, err := p.value()
	if err != nil || !p.is(".") {
		return v, err
	}
	return p.concatRest(v)
}

// value reads one constant: a word, a string or a parenthesized OR.
func (p *textParser) value() (any, error) {
	t := p.peek()
	switch {
	case t.kind == tokWord || t.kind == tokString:
		p.next()
		return t.s, nil
	case t.kind == tokPunct && t.s == "(":
		return p.paren()
	}
	return nil, p.errorf(t, "expected a value, got %s", describe(t))
}

func (p *textParser) paren() (any, error) {
	open := p.next()
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(open, "nesting too deep")
	}
	defer func() { p.depth-- }()
	e, err := p.concatExpr()
	if err != nil {
		return nil, err
	}
	return e, p.expect(")")
}

// mapData reads `@map` or an inline map `{ k : v, … }`.
func (p *textParser) mapData() (any, error) {
	if p.is("{") {
		el, err := p.elements(true)
		return map[string]any{"set": el}, err
	}
	t := p.next()
	if t.kind != tokWord || !strings.HasPrefix(t.s, "@") {
		return nil, p.errorf(t, "expected a map, got %s", describe(t))
	}
	return t.s, nil
}
