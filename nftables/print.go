package nftables

import (
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// printer renders the JSON tree as `nft list ruleset` prints rules, for
// Rule.Text of JSON input and for messages.
type printer struct {
	fam nf.Family
}

// printRule renders a rule's statements and comment.
func printRule(fam nf.Family, stmts []node, comment string) string {
	p := &printer{fam: fam}
	parts := make([]string, 0, len(stmts)+1)
	for _, st := range stmts {
		parts = append(parts, p.stmt(st))
	}
	if comment != "" {
		parts = append(parts, "comment "+quote(comment))
	}
	return strings.Join(parts, " ")
}

func (b *builder) printStmt(fam nf.Family, st node) string { return (&printer{fam: fam}).stmt(st) }

func quote(s string) string { return `"` + s + `"` }

// stmt renders one statement.
func (p *printer) stmt(st node) string {
	k, v, _ := single(st)
	m, _ := obj(v)
	if vd, ok := verdictOf(k, v); ok {
		if vd.Chain != "" {
			return k + " " + vd.Chain
		}
		return k
	}
	switch k {
	case "match":
		return p.match(m)
	case "counter":
		if m == nil {
			return "counter name " + p.value(v, tInt)
		}
		return fmt.Sprintf("counter packets %s bytes %s", field(m, "packets"), field(m, "bytes"))
	case "vmap":
		return p.expr(m["key"]) + " vmap " + p.mapData(m["data"], tVerdict)
	case "mangle":
		return p.expr(m["key"]) + " set " + p.valueOrExpr(m["value"], p.typeOf(m["key"]))
	case "reject":
		return p.reject(m)
	case "dnat", "snat", "masquerade", "redirect":
		return p.nat(k, m)
	case "xt":
		return "xt " + field(m, "type") + " " + field(m, "name")
	case "set", "map":
		return field(m, "op") + " " + field(m, "set") + " { " + p.expr(m["elem"]) + " }"
	case "flow":
		return "flow add " + field(m, "flowtable")
	case "log":
		return p.log(m)
	case "limit":
		return p.limit(m)
	case "notrack":
		return "notrack"
	}
	return k
}

func (p *printer) match(m map[string]any) string {
	op := field(m, "op")
	if s, ok := p.flagMatch(op, m); ok {
		return s
	}
	s := p.expr(m["left"]) + " "
	k, _, _ := single(m["left"])
	if op != "==" && op != "in" || op == "==" && (k == "&" || k == "|" || k == "^") {
		s += op + " "
	}
	return s + p.value(m["right"], p.typeOf(m["left"]))
}

// flagMatch prints `tcp flags & (syn | ack) == syn` as nft does:
// `tcp flags syn / syn,ack`.
func (p *printer) flagMatch(op string, m map[string]any) (string, bool) {
	k, v, ok := single(m["left"])
	args := list(v)
	if !ok || k != "&" || op != "==" || len(args) != 2 || p.typeOf(args[0]) != tTCPFlags {
		return "", false
	}
	mask := list(args[1])
	if mk, mv, ok := single(args[1]); ok && mk == "|" {
		mask = list(mv)
	}
	return p.expr(args[0]) + " " + p.value(m["right"], tTCPFlags) + " / " + p.joined(mask, tTCPFlags, ","), true
}

// typeOf returns the type of an expression, for printing constants.
func (p *printer) typeOf(n node) vtype {
	if k, v, ok := single(n); ok && k == "fib" {
		m, _ := obj(v)
		if field(m, "result") == "type" {
			return tFibType
		}
		return tBool
	}
	return typeOfExpr(n)
}

// typeOfExpr returns the data type of an expression without building it.
func typeOfExpr(n node) vtype {
	k, v, _ := single(n)
	m, _ := obj(v)
	var pf pfield
	switch k {
	case "payload":
		pf = payloadFields[field(m, "protocol")][field(m, "field")]
	case "meta":
		pf = metaFields[field(m, "key")]
	case "ct":
		pf = ctFields[field(m, "key")]
		if field(m, "dir") != "" {
			pf = ctOrigFields[field(m, "key")]
		}
	case "&", "|", "^":
		if l := list(v); len(l) == 2 {
			return typeOfExpr(l[0])
		}
	}
	return pf.t
}

var unqualifiedMeta = map[string]bool{"iif": true, "oif": true, "iifname": true, "oifname": true, "iifgroup": true, "oifgroup": true}

// expr renders an expression.
func (p *printer) expr(n node) string {
	k, v, ok := single(n)
	if !ok {
		if _, isObj := obj(n); isObj || n == nil {
			return brief(n)
		}
		return p.value(n, tInt)
	}
	m, _ := obj(v)
	switch k {
	case "payload":
		if field(m, "protocol") == "" {
			return fmt.Sprintf("@%s,%s,%s", field(m, "base"), field(m, "offset"), field(m, "len"))
		}
		return field(m, "protocol") + " " + field(m, "field")
	case "meta":
		if unqualifiedMeta[field(m, "key")] {
			return field(m, "key")
		}
		return "meta " + field(m, "key")
	case "ct":
		if d := field(m, "dir"); d != "" {
			return "ct " + d + " " + field(m, "key")
		}
		return "ct " + field(m, "key")
	case "fib":
		return "fib " + strings.Join(strList(m["flags"]), " . ") + " " + field(m, "result")
	case "numgen":
		s := fmt.Sprintf("numgen %s mod %s", field(m, "mode"), field(m, "mod"))
		if o := field(m, "offset"); o != "" && o != "0" {
			s += " offset " + o
		}
		return s
	case "concat":
		parts := list(v)
		out := make([]string, len(parts))
		for i, x := range parts {
			out[i] = p.expr(x)
		}
		return strings.Join(out, " . ")
	case "&", "|", "^":
		args := list(v)
		if len(args) == 2 {
			return p.expr(args[0]) + " " + k + " " + p.operand(args[1], p.typeOf(args[0]))
		}
	}
	return k
}

func (p *printer) operand(n node, t vtype) string {
	if k, _, ok := single(n); ok && k == "|" {
		return "(" + p.value(n, t) + ")"
	}
	if l, ok := n.([]any); ok && len(l) > 1 {
		return "(" + p.value(map[string]any{"|": l}, t) + ")"
	}
	return p.value(n, t)
}

// valueOrExpr renders a statement argument that is a constant or an
// expression (`meta mark set meta mark | 0x4000`).
func (p *printer) valueOrExpr(n node, t vtype) string {
	if k, _, ok := single(n); ok && k != "set" && k != "prefix" && k != "range" && k != "concat" {
		return p.expr(n)
	}
	return p.value(n, t)
}

// value renders a constant of type t.
func (p *printer) value(n node, t vtype) string {
	switch x := n.(type) {
	case []any:
		return p.joined(x, t, ",")
	case bool:
		return map[bool]string{true: "exists", false: "missing"}[x]
	case string:
		if t == tIface {
			return quote(x)
		}
		if v, err := parseUint(x); err == nil && t == tMark {
			return fmt.Sprintf("0x%08x", v)
		}
		return x
	}
	if s, ok := str(n); ok {
		if v, err := parseUint(s); err == nil && t == tMark {
			return fmt.Sprintf("0x%08x", v)
		}
		return s
	}
	k, v, _ := single(n)
	m, _ := obj(v)
	switch k {
	case "set":
		return "{ " + p.joined(list(v), t, ", ") + " }"
	case "prefix":
		return field(m, "addr") + "/" + field(m, "len")
	case "range":
		r := list(v)
		if len(r) == 2 {
			return p.value(r[0], t) + "-" + p.value(r[1], t)
		}
	case "concat":
		return p.expr(n)
	case "|":
		return p.joined(list(v), t, " | ")
	case "":
		return brief(n)
	case "elem":
		s := p.value(m["val"], t)
		if c := field(m, "comment"); c != "" {
			s += " comment " + quote(c)
		}
		return s
	}
	return p.expr(n)
}

func (p *printer) joined(l []any, t vtype, sep string) string {
	out := make([]string, len(l))
	for i, x := range l {
		if pair, ok := x.([]any); ok && len(pair) == 2 && sep == ", " {
			out[i] = p.value(pair[0], t) + " : " + p.stmtOrValue(pair[1])
			continue
		}
		out[i] = p.value(x, t)
	}
	return strings.Join(out, sep)
}

func (p *printer) stmtOrValue(n node) string {
	if k, v, ok := single(n); ok {
		if _, isV := verdictOf(k, v); isV {
			return p.stmt(n)
		}
	}
	return p.value(n, tInt)
}

func (p *printer) mapData(n node, t vtype) string {
	if s, ok := n.(string); ok {
		return s
	}
	return p.value(n, t)
}

func (p *printer) reject(m map[string]any) string {
	typ, code := field(m, "type"), field(m, "expr")
	switch {
	case typ == "tcp reset":
		return "reject with tcp reset"
	case typ == "" || code == "port-unreachable" && (typ == "icmpx" && p.fam == nf.FamilyInet ||
		typ == "icmp" && p.fam == nf.FamilyIPv4 || typ == "icmpv6" && p.fam == nf.FamilyIPv6):
		return "reject"
	}
	return "reject with " + typ + " " + code
}

func (p *printer) nat(k string, m map[string]any) string {
	s := k
	if f := field(m, "family"); f != "" {
		s += " " + f
	}
	addr, hasAddr := m["addr"]
	port, hasPort := m["port"]
	if hasAddr || hasPort {
		s += " to "
	}
	if mk, mv, ok := single(addr); ok && mk == "map" {
		mm, _ := obj(mv)
		return s + p.expr(mm["key"]) + " map " + p.mapData(mm["data"], tAddr4) + p.natFlags(m)
	}
	if hasAddr {
		a := p.value(addr, tAddr4)
		if hasPort && strings.Contains(a, ":") {
			a = "[" + a + "]"
		}
		s += a
	}
	if hasPort {
		s += ":" + p.value(port, tInt)
	}
	return s + p.natFlags(m)
}

func (p *printer) natFlags(m map[string]any) string {
	if f := strList(m["flags"]); len(f) > 0 {
		return " " + strings.Join(f, ",")
	}
	return ""
}

func (p *printer) log(m map[string]any) string {
	s := "log"
	if v := field(m, "prefix"); v != "" {
		s += " prefix " + quote(v)
	}
	for _, k := range []string{"level", "group", "snaplen", "queue-threshold"} {
		if v := field(m, k); v != "" {
			s += " " + k + " " + v
		}
	}
	if f := strList(m["flags"]); len(f) > 0 {
		s += " flags " + strings.Join(f, ",")
	}
	return s
}

func (p *printer) limit(m map[string]any) string {
	s := "limit rate "
	if b, _ := m["inv"].(bool); b {
		s += "over "
	}
	s += field(m, "rate")
	if u := field(m, "rate_unit"); u != "" && u != "packets" {
		s += " " + u
	}
	s += "/" + field(m, "per")
	if bu := field(m, "burst"); bu != "" && bu != "0" && bu != "5" {
		s += " burst " + bu + " packets"
	}
	return s
}
