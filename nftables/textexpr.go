package nftables

import (
	"strings"
)

// concatExpr reads `e [. e …]`.
func (p *textParser) concatExpr() (any, error) {
	e, err := p.orExpr()
	if err != nil || !p.is(".") {
		return e, err
	}
	l := []any{e}
	for p.accept(".") {
		x, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		l = append(l, x)
	}
	return map[string]any{"concat": l}, nil
}

// Binary operators bind as in C (nft's parser_bison.y): & before ^
// before |; "and", "xor", "or" are their word forms.
func (p *textParser) orExpr() (any, error) {
	return p.binary([]string{"|", "or"}, "|", p.xorExpr)
}

func (p *textParser) xorExpr() (any, error) {
	return p.binary([]string{"^", "xor"}, "^", p.andExpr)
}

func (p *textParser) andExpr() (any, error) {
	return p.binary([]string{"&", "and"}, "&", p.primary)
}

func (p *textParser) binary(ops []string, name string, sub func() (any, error)) (any, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for p.is(ops[0]) || p.is(ops[1]) {
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = map[string]any{name: []any{l, r}}
	}
	return l, nil
}

// payloadProtos are the header keywords that start a payload expression.
var payloadProtos = map[string]bool{"ip": true, "ip6": true, "tcp": true, "udp": true, "udplite": true,
	"sctp": true, "dccp": true, "th": true, "icmp": true, "icmpv6": true, "ether": true, "vlan": true,
	"arp": true, "ah": true, "esp": true, "comp": true, "igmp": true, "gre": true}

// unqualifiedMetaKeys may be written without "meta" (nft(8) META EXPRESSIONS).
var unqualifiedMetaKeys = map[string]bool{"mark": true, "iif": true, "iifname": true, "iiftype": true,
	"oif": true, "oifname": true, "oiftype": true, "skuid": true, "skgid": true, "nftrace": true,
	"rtclassid": true, "ibriport": true, "obriport": true, "pkttype": true, "cpu": true, "iifgroup": true,
	"oifgroup": true, "cgroup": true, "ipsec": true}

// primary reads one expression or constant.
func (p *textParser) primary() (any, error) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		p.next()
		return t.s, nil
	case t.kind == tokPunct && t.s == "(":
		return p.paren()
	case t.kind != tokWord:
		return nil, p.errorf(t, "expected an expression, got %s", describe(t))
	}
	switch {
	case payloadProtos[t.s] && p.toks[p.i+1].kind == tokWord:
		p.next()
		f := p.next()
		if t.s == "tcp" && f.s == "option" {
			return nil, p.errorf(f, "expression \"tcp option\": %w", errUnsupported)
		}
		return map[string]any{"payload": map[string]any{"protocol": t.s, "field": f.s}}, nil
	case t.s == "meta":
		p.next()
		return map[string]any{"meta": map[string]any{"key": p.next().s}}, nil
	case unqualifiedMetaKeys[t.s]:
		p.next()
		return map[string]any{"meta": map[string]any{"key": t.s}}, nil
	case t.s == "ct":
		return p.ctExpr()
	case t.s == "fib":
		return p.fibExpr()
	case t.s == "numgen":
		return p.numgenExpr()
	case (t.s == "@ll" || t.s == "@nh" || t.s == "@th") && p.toks[p.i+1].s == ",":
		return p.rawPayload()
	}
	switch t.s {
	case "jhash", "symhash", "rt", "osf", "socket", "ipsec", "exthdr", "hbh", "frag", "dst", "mh", "srh", "tunnel", "hash":
		return nil, p.errorf(t, "expression %q: %w", t.s, errUnsupported)
	}
	p.next()
	return t.s, nil
}

// ctExpr reads `ct [original|reply] [ip|ip6] KEY`.
func (p *textParser) ctExpr() (any, error) {
	p.next()
	m := map[string]any{}
	if p.is("original") || p.is("reply") {
		m["dir"] = p.next().s
	}
	key := p.next()
	if key.kind != tokWord {
		return nil, p.errorf(key, "expected a ct key, got %s", describe(key))
	}
	m["key"] = key.s
	if key.s == "ip" || key.s == "ip6" {
		m["key"] = key.s + " " + p.next().s
	}
	if key.s == "count" {
		return nil, p.errorf(key, "expression \"ct count\": %w", errUnsupported)
	}
	return map[string]any{"ct": m}, nil
}

// fibExpr reads `fib saddr|daddr [. mark] [. iif|oif] type|oif|oifname`.
func (p *textParser) fibExpr() (any, error) {
	p.next()
	var flags []any
	for {
		t := p.next()
		if t.kind != tokWord {
			return nil, p.errorf(t, "expected a fib flag, got %s", describe(t))
		}
		flags = append(flags, t.s)
		if !p.accept(".") {
			break
		}
	}
	r := p.next()
	if r.s != "type" && r.s != "oif" && r.s != "oifname" {
		return nil, p.errorf(r, "expected a fib result (type, oif, oifname), got %s", describe(r))
	}
	return map[string]any{"fib": map[string]any{"result": r.s, "flags": flags}}, nil
}

// numgenExpr reads `numgen random|inc mod N [offset O]`.
func (p *textParser) numgenExpr() (any, error) {
	p.next()
	mode := p.next()
	if err := p.expect("mod"); err != nil {
		return nil, err
	}
	m := map[string]any{"mode": mode.s, "mod": p.next().s, "offset": "0"}
	if p.accept("offset") {
		m["offset"] = p.next().s
	}
	return map[string]any{"numgen": m}, nil
}

// rawPayload reads `@th,OFFSET,LENGTH`: nft prints raw loads it cannot
// name this way; the tool does not model them.
func (p *textParser) rawPayload() (any, error) {
	base := strings.TrimPrefix(p.next().s, "@")
	p.next()
	off := p.next().s
	if err := p.expect(","); err != nil {
		return nil, err
	}
	return map[string]any{"payload": map[string]any{"base": base, "offset": off, "len": p.next().s}}, nil
}
