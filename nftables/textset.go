package nftables

import "strings"

// setDecl reads `set|map NAME { type …; flags …; elements = { … } }`.
func (p *textParser) setDecl(t token, fam, table string) error {
	name, err := p.name()
	if err != nil {
		return err
	}
	m := map[string]any{"family": fam, "table": table, "name": name}
	if err := p.expect("{"); err != nil {
		return err
	}
	for {
		p.skipBlank()
		x := p.next()
		if x.kind == tokPunct && x.s == "}" {
			return p.apply(t.s, t, m)
		}
		if err := p.setItem(x, t.s == "map", m); err != nil {
			return err
		}
	}
}

func (p *textParser) setItem(x token, isMap bool, m map[string]any) error {
	switch x.s {
	case "type":
		return p.setType(x, isMap, m)
	case "typeof":
		return p.setTypeof(isMap, m)
	case "flags":
		m["flags"] = toAny(p.wordList())
	case "timeout", "gc-interval", "size", "policy":
		p.next()
	case "auto-merge", "counter":
	case "comment":
		c, err := p.name()
		m["comment"] = c
		return err
	case "elements":
		if err := p.expect("="); err != nil {
			return err
		}
		el, err := p.elements(isMap)
		m["elem"] = el
		return err
	default:
		return p.errorf(x, "set item %s: %w", describe(x), errUnsupported)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// setType reads `type a . b [: c . d]`.
func (p *textParser) setType(x token, isMap bool, m map[string]any) error {
	var key, data []any
	cur := &key
	for !p.endOfStmt() {
		t := p.next()
		switch {
		case t.s == ":":
			cur = &data
		case t.s != ".":
			*cur = append(*cur, t.s)
		}
	}
	if len(key) == 0 || isMap && len(data) == 0 {
		return p.errorf(x, "incomplete set type")
	}
	m["type"] = key
	if isMap {
		m["map"] = strings.Join(toStrings(data), " . ")
	}
	return nil
}

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = str(x)
	}
	return out
}

// setTypeof reads `typeof EXPR [: EXPR|verdict]`.
func (p *textParser) setTypeof(isMap bool, m map[string]any) error {
	key, err := p.concatExpr()
	if err != nil {
		return err
	}
	m["typeof"] = key
	if !isMap {
		return nil
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	if p.accept("verdict") {
		m["map"] = "verdict"
		return nil
	}
	data, err := p.concatExpr()
	m["typeof_data"] = data
	return err
}

// elements reads `{ e, e, … }` where e is a key (a concatenation of
// values) with options (timeout, expires, comment, counter) and, in a map,
// `: value`.
func (p *textParser) elements(isMap bool) ([]any, error) {
	open := p.peek()
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []any
	for {
		p.skipNL()
		if p.accept("}") {
			return out, nil
		}
		if p.peek().kind == tokEOF {
			return nil, p.errorf(open, "unclosed \"{\"")
		}
		el, err := p.element(isMap)
		if err != nil {
			return nil, err
		}
		out = append(out, el)
		p.skipNL()
		if !p.accept(",") && !p.is("}") {
			return nil, p.errorf(p.peek(), "expected \",\" or \"}\" in set elements, got %s", describe(p.peek()))
		}
	}
}

func (p *textParser) skipNL() {
	for p.peek().kind == tokNL {
		p.i++
	}
}

func (p *textParser) element(isMap bool) (any, error) {
	key, err := p.valueConcat()
	if err != nil {
		return nil, err
	}
	opts := map[string]any{}
	for p.is("timeout") || p.is("expires") || p.is("comment") || p.is("counter") {
		if err := p.elemOption(opts); err != nil {
			return nil, err
		}
	}
	if len(opts) > 0 {
		opts["val"] = key
		key = map[string]any{"elem": opts}
	}
	if !isMap {
		return key, nil
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	data, err := p.mapValue()
	return []any{key, data}, err
}

func (p *textParser) elemOption(opts map[string]any) error {
	t := p.next()
	switch t.s {
	case "comment":
		c, err := p.name()
		opts["comment"] = c
		return err
	case "counter":
		for p.is("packets") || p.is("bytes") {
			p.next()
			p.next()
		}
		return nil
	}
	opts[t.s] = p.next().s
	return nil
}

// mapValue reads a map element's value: a verdict or a concatenation of
// values.
func (p *textParser) mapValue() (any, error) {
	t := p.peek()
	switch t.s {
	case "accept", "drop", "continue", "return":
		p.next()
		return map[string]any{t.s: nil}, nil
	case "jump", "goto":
		p.next()
		target, err := p.name()
		return map[string]any{t.s: map[string]any{"target": target}}, err
	}
	return p.valueConcat()
}

// addElement reads `add element FAMILY TABLE SET { … }`.
func (p *textParser) addElement(t token) error {
	fam, table, err := p.familyName()
	if err != nil {
		return err
	}
	name, err := p.name()
	if err != nil {
		return err
	}
	isMap := false
	if tb := p.b.tables[fam+" "+table]; tb != nil && tb.Sets[name] != nil {
		isMap = tb.Sets[name].DataType != ""
	}
	el, err := p.elements(isMap)
	if err != nil {
		return err
	}
	return p.apply("element", t, map[string]any{"family": fam, "table": table, "name": name, "elem": el})
}
