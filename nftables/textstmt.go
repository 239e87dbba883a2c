package nftables

import (
	"strings"
)

// counterStmt reads `counter [packets N bytes M]` or `counter name X`.
func (p *textParser) counterStmt() (any, error) {
	p.next()
	if p.accept("name") {
		return map[string]any{"counter": p.next().s}, nil
	}
	m := map[string]any{"packets": "0", "bytes": "0"}
	for p.is("packets") || p.is("bytes") {
		k := p.next().s
		m[k] = p.next().s
	}
	return map[string]any{"counter": m}, nil
}

// logStmt reads `log [prefix S] [level L] [group N] [snaplen N]
// [queue-threshold N] [flags F,…]`.
func (p *textParser) logStmt() (any, error) {
	p.next()
	m := map[string]any{}
	for {
		switch {
		case p.is("prefix"):
			p.next()
			s, err := p.name()
			if err != nil {
				return nil, err
			}
			m["prefix"] = s
		case p.is("level") || p.is("group") || p.is("snaplen") || p.is("queue-threshold"):
			k := p.next().s
			m[k] = p.next().s
		case p.is("flags"):
			p.next()
			m["flags"] = toAny(p.wordList())
		default:
			return map[string]any{"log": m}, nil
		}
	}
}

// limitStmt reads `limit rate [over] N[ unit]/period [burst N packets|bytes]`.
func (p *textParser) limitStmt() (any, error) {
	p.next()
	if err := p.expect("rate"); err != nil {
		return nil, err
	}
	m := map[string]any{"inv": p.accept("over")}
	rate := p.next().s
	if !strings.Contains(rate, "/") {
		unit := p.next().s
		u, per, _ := strings.Cut(unit, "/")
		m["rate_unit"], rate = u, rate+"/"+per
	}
	r, per, _ := strings.Cut(rate, "/")
	m["rate"], m["per"] = r, per
	if p.accept("burst") {
		m["burst"] = p.next().s
		p.next()
	}
	return map[string]any{"limit": m}, nil
}

// rejectStmt reads `reject [with tcp reset | with icmp|icmpv6|icmpx [type] CODE]`.
func (p *textParser) rejectStmt() (any, error) {
	p.next()
	if !p.accept("with") {
		return map[string]any{"reject": nil}, nil
	}
	if p.accept("tcp") {
		if err := p.expect("reset"); err != nil {
			return nil, err
		}
		return map[string]any{"reject": map[string]any{"type": "tcp reset"}}, nil
	}
	typ := p.next()
	if typ.s != "icmp" && typ.s != "icmpv6" && typ.s != "icmpx" {
		return nil, p.errorf(typ, "reject with %s: %w", describe(typ), errUnsupported)
	}
	p.accept("type")
	return map[string]any{"reject": map[string]any{"type": typ.s, "expr": p.next().s}}, nil
}

// exprStarts are the words that start an expression (a NAT map key)
// rather than an address.
var exprStarts = map[string]bool{"ip": true, "ip6": true, "meta": true, "ct": true, "numgen": true, "tcp": true,
	"udp": true, "th": true, "sctp": true, "fib": true, "ether": true, "(": true, "mark": true, "iifname": true}

// natStmt reads `dnat|snat [ip|ip6] [addr . port] to ADDR[:PORT] [flags]`
// or `… to EXPR map @m|{ … }`.
func (p *textParser) natStmt() (any, error) {
	kind := p.next().s
	m := map[string]any{}
	if p.is("ip") || p.is("ip6") {
		m["family"] = p.next().s
	}
	if p.accept("addr") {
		p.accept(".")
		p.accept("port")
	}
	if err := p.expect("to"); err != nil {
		return nil, err
	}
	if exprStarts[p.peek().s] {
		key, err := p.concatExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("map"); err != nil {
			return nil, err
		}
		data, err := p.mapData()
		m["addr"] = map[string]any{"map": map[string]any{"key": key, "data": data}}
		p.natFlags(m)
		return map[string]any{kind: m}, err
	}
	addr, port := splitAddrPort(p.next().s)
	if addr != "" {
		m["addr"] = addr
	}
	if port != "" {
		m["port"] = port
	}
	p.natFlags(m)
	return map[string]any{kind: m}, nil
}

// splitAddrPort splits `10.0.0.1:80`, `[fd00::1]:80`, `:80`, `fd00::1`.
func splitAddrPort(s string) (string, string) {
	switch {
	case strings.HasPrefix(s, "["):
		a, rest, _ := strings.Cut(s[1:], "]")
		return a, strings.TrimPrefix(rest, ":")
	case strings.HasPrefix(s, ":"):
		return "", s[1:]
	case strings.Count(s, ":") == 1:
		a, port, _ := strings.Cut(s, ":")
		return a, port
	}
	return s, ""
}

func (p *textParser) natFlags(m map[string]any) {
	var flags []any
	for p.is("random") || p.is("fully-random") || p.is("persistent") || p.is("netmap") {
		flags = append(flags, p.next().s)
		p.accept(",")
	}
	if len(flags) > 0 {
		m["flags"] = flags
	}
}

// masqStmt reads `masquerade|redirect [to :PORT] [flags]`.
func (p *textParser) masqStmt() (any, error) {
	kind := p.next().s
	m := map[string]any{}
	if p.accept("to") {
		_, port := splitAddrPort(p.next().s)
		m["port"] = port
	}
	p.natFlags(m)
	if len(m) == 0 {
		return map[string]any{kind: nil}, nil
	}
	return map[string]any{kind: m}, nil
}

// queueStmt reads `queue [flags F] [num N] [bypass] [fanout]`.
func (p *textParser) queueStmt() (any, error) {
	p.next()
	m := map[string]any{}
	var flags []any
	for {
		switch {
		case p.accept("num"):
			m["num"] = p.next().s
		case p.accept("flags"):
			flags = append(flags, toAny(p.wordList())...)
		case p.is("bypass") || p.is("fanout"):
			flags = append(flags, p.next().s)
		default:
			if len(flags) > 0 {
				m["flags"] = flags
			}
			return map[string]any{"queue": m}, nil
		}
	}
}

// setStmt reads `add|update|delete @set { EXPR [timeout T] }`.
func (p *textParser) setStmt() (any, error) {
	op := p.next().s
	set := p.next().s
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	elem, err := p.concatExpr()
	if err != nil {
		return nil, err
	}
	for !p.is("}") && !p.endOfStmt() {
		p.next()
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return map[string]any{"set": map[string]any{"op": op, "elem": elem, "set": set}}, nil
}
