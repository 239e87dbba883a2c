package nftables

import (
	"fmt"

	nf "github.com/exposure-audit/exposure/netfilter"
)

var natKinds = map[string]nf.NATKind{"dnat": nf.NATDNAT, "snat": nf.NATSNAT, "masquerade": nf.NATMasquerade, "redirect": nf.NATRedirect}

// nat lowers dnat/snat/masquerade/redirect. A family-qualified statement
// in an inet table (`dnat ip to …`) only acts on that family.
func (b *builder) nat(t *nf.Table, k string, m map[string]any, text string) ([]nf.Expr, error) {
	kind := natKinds[k]
	fam := map[string]nf.IPFamily{"ip": nf.IPv4, "ip6": nf.IPv6}[field(m, "family")]
	lo, hi, err := b.portRange(m["port"])
	if err != nil {
		return nil, err
	}
	random := false
	persistent := false
	for _, f := range strList(m["flags"]) {
		random = random || f == "random" || f == "fully-random"
		persistent = persistent || f == "persistent"
	}
	if k, v, ok := single(m["addr"]); ok && k == "map" {
		mm, _ := obj(v)
		return b.natMap(t, kind, fam, mm, lo, hi, random, text)
	}
	st := &nf.NATStmt{Kind: kind, PortLo: lo, PortHi: hi, Random: random, Persistent: persistent, Text: text}
	if a, ok := m["addr"]; ok {
		vals, err := b.values(tAddr4, a)
		if err != nil || len(vals) != 1 {
			return nil, fmt.Errorf("invalid NAT address %s", brief(a))
		}
		st.SetAddrs(vals[0].AddrLo(), vals[0].AddrHi())
	}
	if fam != 0 && t.Family == nf.FamilyInet {
		return []nf.Expr{&familyNAT{family: fam, stmt: st}}, nil
	}
	return []nf.Expr{st}, nil
}

func (b *builder) portRange(n node) (uint16, uint16, error) {
	if n == nil {
		return 0, 0, nil
	}
	vals, err := b.values(tInt, n)
	if err != nil || len(vals) != 1 || vals[0].Hi > 65535 {
		return 0, 0, fmt.Errorf("invalid NAT port %s", brief(n))
	}
	return uint16(vals[0].Lo), uint16(vals[0].Hi), nil
}

// natMap: `dnat ip to KEY map @m` / `map { … }`.
func (b *builder) natMap(t *nf.Table, kind nf.NATKind, fam nf.IPFamily, m map[string]any, lo, hi uint16, random bool, text string) ([]nf.Expr, error) {
	s := &NATMap{Kind: kind, Family: fam, PortLo: lo, PortHi: hi, Random: random, Text: text}
	if t.Family != nf.FamilyInet {
		s.Family = 0
	}
	var deps []nf.Expr
	var keyTypes []vtype
	if k, v, ok := single(m["key"]); ok && k == "numgen" {
		ng, err := numgenOf(v)
		if err != nil {
			return nil, err
		}
		s.Numgen, keyTypes = ng, []vtype{tInt}
	} else {
		fs, ts, ds, bad := b.keySpecs(t, m["key"])
		if bad != "" {
			return append(b.unknown(t, bad, text), &nf.UnknownTarget{Name: "nat map", Text: text}), nil
		}
		s.Keys, keyTypes, deps = fs, ts, ds
	}
	if name, ok := setRef(m["data"]); ok {
		s.Map = name
		return append(deps, s), nil
	}
	elems := anonElems(m["data"])
	set, err := b.anonSet(keyTypes, natDataTypes(elems), elems)
	if err != nil {
		return nil, err
	}
	s.Anon = set
	return append(deps, s), nil
}

// natDataTypes: an inline NAT map gives addresses, or address . port.
func natDataTypes(elems []node) []vtype {
	for _, e := range elems {
		if pair, ok := e.([]any); ok && len(pair) == 2 {
			if k, _, ok := single(pair[1]); ok && k == "concat" {
				return []vtype{tAddr4, tInt}
			}
		}
	}
	return []vtype{tAddr4}
}
