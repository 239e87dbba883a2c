package nftables

import (
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// setRef returns the name of a "@name" reference.
func setRef(n node) (string, bool) {
	s, ok := n.(string)
	if ok && strings.HasPrefix(s, "@") && len(s) > 1 {
		return s[1:], true
	}
	return "", false
}

func isAnonSet(n node) bool {
	k, _, ok := single(n)
	return ok && k == "set"
}

// match lowers {"match": {op, left, right}}. text renders the statement
// for the expressions that keep it (plain comparisons do not).
func (b *builder) match(t *nf.Table, m map[string]any, text func() string) ([]nf.Expr, error) {
	op, left, right := field(m, "op"), m["left"], m["right"]
	if k, v, ok := single(left); ok {
		switch k {
		case "fib":
			return fibMatch(op, v, right, text())
		case "numgen":
			return b.numgenMatch(op, v, right, text())
		case "concat":
			return b.concatMatch(t, op, list(v), right, text())
		case "ct":
			if cm, _ := obj(v); field(cm, "key") == "direction" {
				s, _ := str(right)
				return []nf.Expr{&ctDirection{reply: s == "reply", neg: op == "!=", text: text()}}, nil
			}
		}
	}
	sp, err := b.spec(t.Family, left)
	if err != nil {
		return nil, err
	}
	if sp.unknown != "" {
		return b.unknown(t, sp.unknown, text()), nil
	}
	if name, ok := setRef(right); ok {
		if sp.masked {
			return b.unknown(t, "masked set lookup", text()), nil
		}
		return append(sp.deps, &nf.SetMatch{Keys: []nf.Field{sp.field}, Set: name, Neg: op == "!=", Text: text()}), nil
	}
	vals, err := b.values(sp.typ, right)
	if err != nil {
		return nil, err
	}
	e, err := fieldMatch(sp, op, vals, isAnonSet(right))
	if err != nil {
		return nil, err
	}
	if sp.field == nf.FieldSrcMAC {
		if fm, ok := e.(*nf.FieldMatch); ok {
			e = &nf.IfKnown{Match: fm, Key: "srcmac", Text: text()}
		}
	}
	return append(append([]nf.Expr(nil), sp.deps...), e), nil
}

func (b *builder) unknown(t *nf.Table, what, text string) []nf.Expr {
	b.warn(b.at, fmt.Sprintf("table %s: %q (%s) is not modelled; it forks into matched and not matched", t, text, what))
	return []nf.Expr{unknownMatch(what, text)}
}

var cmpOps = map[string]nf.CmpOp{"<": nf.OpLt, ">": nf.OpGt, "<=": nf.OpLe, ">=": nf.OpGe}

// fieldMatch builds the comparison of a field with constants.
func fieldMatch(sp spec, op string, vals []nf.Value, isSet bool) (nf.Expr, error) {
	for i := range vals {
		if vals[i].Kind == nf.ValInt { // an address value's Lo/Hi hold address bits
			vals[i].Lo, vals[i].Hi = vals[i].Lo<<sp.shift, vals[i].Hi<<sp.shift
		}
	}
	neg := op == "!="
	if op == "in" && !isSet && sp.typ.bitmask() {
		return anyBit(sp, vals), nil
	}
	if cop, ok := cmpOps[op]; ok {
		if sp.masked && sp.xor != 0 || len(vals) != 1 {
			return nil, fmt.Errorf("unsupported comparison %s on a transformed value", op)
		}
		return &nf.FieldMatch{Field: sp.field, Op: cop, Mask: sp.and, Values: vals}, nil
	}
	if op != "==" && op != "!=" && op != "in" {
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	if !sp.masked {
		return &nf.FieldMatch{Field: sp.field, Values: vals, Neg: neg}, nil
	}
	if sp.and == 0 {
		return constIn(sp.xor, vals, neg), nil
	}
	for i := range vals {
		if vals[i].Kind != nf.ValInt || vals[i].Lo != vals[i].Hi {
			return nil, fmt.Errorf("a masked comparison needs single integers")
		}
		vals[i] = nf.IntValue(vals[i].Lo ^ sp.xor)
	}
	return &nf.FieldMatch{Field: sp.field, Mask: sp.and, Values: vals, Neg: neg}, nil
}

// anyBit: a flag test (`ct state established,related`): the (transformed)
// value shares a bit with the constants.
func anyBit(sp spec, vals []nf.Value) nf.Expr {
	var c uint64
	for _, v := range vals {
		c |= v.Lo
	}
	if !sp.masked {
		if c == 0 {
			return nf.Const(false)
		}
		return &nf.FieldMatch{Field: sp.field, Op: nf.OpAnyBit, Mask: c}
	}
	if sp.and&c == 0 {
		return nf.Const(sp.xor&c != 0)
	}
	return &nf.FieldMatch{Field: sp.field, Mask: sp.and & c, Values: []nf.Value{nf.IntValue(sp.xor & c)}, Neg: true}
}

func constIn(x uint64, vals []nf.Value, neg bool) nf.Expr {
	in := false
	for _, v := range vals {
		in = in || v.ContainsInt(x)
	}
	return nf.Const(in != neg)
}

// fibMatch: `fib daddr [. iif] type local` is the routing type of an
// address (nft_fib_*_eval with NFTA_FIB_RESULT_ADDRTYPE), which
// AddrTypeMatch computes; `fib … oif` results need routes, which forks.
func fibMatch(op string, v, right node, text string) ([]nf.Expr, error) {
	m, _ := obj(v)
	flags := strList(m["flags"])
	if field(m, "result") != "type" {
		return []nf.Expr{&nf.StatefulMatch{Key: "fib", Text: text, Known: true}}, nil
	}
	var types nf.AddrType
	for _, s := range flatStrings(right) {
		t, ok := fibTypes[s]
		if !ok {
			return nil, fmt.Errorf("unknown address type %q", s)
		}
		types |= t
	}
	am := &nf.AddrTypeMatch{}
	for _, f := range flags {
		switch f {
		case "saddr":
			am.Src, am.SrcNeg = types, op == "!="
		case "daddr":
			am.Dst, am.DstNeg = types, op == "!="
		case "iif":
			am.LimitIn = true
		case "oif":
			am.LimitOut = true
		}
	}
	if am.Src == 0 && am.Dst == 0 {
		return nil, fmt.Errorf("fib needs saddr or daddr")
	}
	return []nf.Expr{am}, nil
}

// flatStrings collects the names of a value, a list or a set.
func flatStrings(n node) []string {
	if k, v, ok := single(n); ok && k == "set" {
		return flatStrings(v)
	}
	var out []string
	for _, x := range list(n) {
		if s, ok := str(x); ok {
			out = append(out, s)
		}
	}
	return out
}

func numgenOf(v node) (*NumgenMatch, error) {
	m, _ := obj(v)
	mod, err := num(m["mod"])
	if err != nil || mod == 0 || mod > 1<<16 {
		return nil, fmt.Errorf("numgen needs a modulus between 1 and 65536")
	}
	off, _ := num(m["offset"])
	return &NumgenMatch{Mod: uint32(mod), Offset: uint32(off), Inc: field(m, "mode") == "inc"}, nil
}

func (b *builder) numgenMatch(op string, v, right node, text string) ([]nf.Expr, error) {
	ng, err := numgenOf(v)
	if err != nil {
		return nil, err
	}
	if op != "==" && op != "!=" && op != "in" {
		return nil, fmt.Errorf("unsupported numgen comparison %q", op)
	}
	if ng.Values, err = b.values(tInt, right); err != nil {
		return nil, err
	}
	ng.Neg, ng.Text = op == "!=", text
	return []nf.Expr{ng}, nil
}

// keySpecs resolves the parts of a lookup key.
func (b *builder) keySpecs(t *nf.Table, key node) ([]nf.Field, []vtype, []nf.Expr, string) {
	parts := []node{key}
	if k, v, ok := single(key); ok && k == "concat" {
		parts = list(v)
	}
	var fs []nf.Field
	var ts []vtype
	var deps []nf.Expr
	for _, p := range parts {
		sp, err := b.spec(t.Family, p)
		if err != nil || sp.unknown != "" || sp.masked {
			return nil, nil, nil, fmt.Sprintf("lookup key %s", brief(p))
		}
		fs, ts, deps = append(fs, sp.field), append(ts, sp.typ), append(deps, sp.deps...)
	}
	return fs, ts, deps, ""
}

func (b *builder) concatMatch(t *nf.Table, op string, parts []node, right node, text string) ([]nf.Expr, error) {
	fs, ts, deps, bad := b.keySpecs(t, map[string]any{"concat": parts})
	if bad != "" {
		return b.unknown(t, bad, text), nil
	}
	sm := &nf.SetMatch{Keys: fs, Neg: op == "!=", Text: text}
	if name, ok := setRef(right); ok {
		sm.Set = name
	} else {
		elems := right
		if k, v, ok := single(right); ok && k == "set" {
			elems = v
		}
		s, err := b.anonSet(ts, nil, list(elems))
		if err != nil {
			return nil, err
		}
		sm.Anon = s
	}
	return append(deps, sm), nil
}

// vmap lowers `key vmap @map` and `key vmap { … }`.
func (b *builder) vmap(t *nf.Table, m map[string]any, text string) ([]nf.Expr, error) {
	key, data := m["key"], m["data"]
	if k, v, ok := single(key); ok && k == "numgen" {
		return b.numgenVMap(v, data, text)
	}
	fs, ts, deps, bad := b.keySpecs(t, key)
	if bad != "" {
		return append(b.unknown(t, bad, text), &nf.UnknownTarget{Name: "vmap", Text: text}), nil
	}
	e := &nf.VMapExpr{Keys: fs, Text: text}
	if name, ok := setRef(data); ok {
		e.Map = name
		return append(deps, e), nil
	}
	s, err := b.anonSet(ts, []vtype{tVerdict}, anonElems(data))
	if err != nil {
		return nil, err
	}
	e.Anon = s
	return append(deps, e), nil
}

func anonElems(data node) []node {
	if k, v, ok := single(data); ok && k == "set" {
		return list(v)
	}
	return list(data)
}

func (b *builder) numgenVMap(v, data node, text string) ([]nf.Expr, error) {
	ng, err := numgenOf(v)
	if err != nil {
		return nil, err
	}
	e := &NumgenVMap{Mod: ng.Mod, Offset: ng.Offset, Inc: ng.Inc, Text: text}
	if name, ok := setRef(data); ok {
		e.Map = name
		return []nf.Expr{e}, nil
	}
	if e.Anon, err = b.anonSet([]vtype{tInt}, []vtype{tVerdict}, anonElems(data)); err != nil {
		return nil, err
	}
	return []nf.Expr{e}, nil
}
