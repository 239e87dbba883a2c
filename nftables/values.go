package nftables

import (
	"fmt"
	"net/netip"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// values reads the constants of a right-hand side: a scalar, a list, an
// anonymous set, a prefix, a range or an OR of flags.
func (b *builder) values(t vtype, n node) ([]nf.Value, error) {
	if l, ok := n.([]any); ok {
		return b.valueList(t, l)
	}
	k, v, isObj := single(n)
	if !isObj {
		if _, isMap := obj(n); isMap {
			return nil, fmt.Errorf("unexpected object %s", brief(n))
		}
		s, ok := str(n)
		if !ok {
			if bv, isBool := n.(bool); isBool && t == tBool {
				return []nf.Value{nf.IntValue(map[bool]uint64{true: 1}[bv])}, nil
			}
			return nil, fmt.Errorf("unexpected value %s", brief(n))
		}
		v, err := scalar(t, s)
		return []nf.Value{v}, err
	}
	switch k {
	case "set":
		return b.valueList(t, list(v))
	case "elem":
		m, _ := obj(v)
		return b.values(t, m["val"])
	case "prefix":
		return prefixValue(v)
	case "range":
		return rangeValue(t, v)
	case "|":
		c, err := b.constant(t, list(v))
		return []nf.Value{nf.IntValue(c)}, err
	}
	return nil, fmt.Errorf("unsupported value %q", k)
}

func (b *builder) valueList(t vtype, l []any) ([]nf.Value, error) {
	out := make([]nf.Value, 0, len(l))
	for _, x := range l {
		vs, err := b.values(t, x)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

func prefixValue(v node) ([]nf.Value, error) {
	m, _ := obj(v)
	a, err := netip.ParseAddr(field(m, "addr"))
	if err != nil {
		return nil, fmt.Errorf("invalid prefix address %q", field(m, "addr"))
	}
	l, err := num(m["len"])
	if err != nil || int(l) > a.BitLen() {
		return nil, fmt.Errorf("invalid prefix length %s", brief(m["len"]))
	}
	return []nf.Value{nf.PrefixValue(netip.PrefixFrom(a, int(l)))}, nil
}

func rangeValue(t vtype, v node) ([]nf.Value, error) {
	l := list(v)
	if len(l) != 2 {
		return nil, fmt.Errorf("a range needs two ends, got %s", brief(v))
	}
	lo, err1 := str(l[0])
	hi, err2 := str(l[1])
	if !err1 || !err2 {
		return nil, fmt.Errorf("invalid range %s", brief(v))
	}
	r, err := scalar(t, lo+"-"+hi)
	return []nf.Value{r}, err
}

// scalar reads one constant of type t, possibly a prefix (a/len) or a range
// (a-b) as nft's text spells them.
func scalar(t vtype, s string) (nf.Value, error) {
	s = strings.Trim(s, "\"")
	switch t {
	case tAddr4, tAddr6:
		return addrValue(t, s)
	case tIface:
		return nf.IfaceValue(s), nil
	case tMAC:
		return nf.Value{Kind: nf.ValString, Str: strings.ToLower(s)}, nil
	}
	if v, ok := intSymbol(t, s); ok {
		return nf.IntValue(v), nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && lo != "" {
		a, err1 := intConst(t, lo)
		z, err2 := intConst(t, hi)
		if err1 != nil || err2 != nil || z < a {
			return nf.Value{}, fmt.Errorf("invalid %s value %q", typeName(t), s)
		}
		return nf.IntRange(a, z), nil
	}
	v, err := intConst(t, s)
	return nf.IntValue(v), err
}

func intSymbol(t vtype, s string) (uint64, bool) {
	if t == tProto {
		p, ok := nf.ProtoByName[s]
		return uint64(p), ok
	}
	v, ok := symbols[t][s]
	return v, ok
}

func intConst(t vtype, s string) (uint64, error) {
	if v, ok := intSymbol(t, s); ok {
		return v, nil
	}
	v, err := parseUint(s)
	if err != nil {
		return 0, fmt.Errorf("invalid %s value %q", typeName(t), s)
	}
	if t == tEtherType {
		switch v {
		case 0x0800:
			v = 2
		case 0x86dd:
			v = 10
		}
	}
	return v, nil
}

func addrValue(t vtype, s string) (nf.Value, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return nf.PrefixValue(p), nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		z, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || a.Is4() != z.Is4() || z.Less(a) {
			return nf.Value{}, fmt.Errorf("invalid address range %q", s)
		}
		return nf.AddrRange(a, z), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nf.Value{}, fmt.Errorf("invalid address %q", s)
	}
	return nf.AddrValue(a), nil
}

// typeNames are nft's datatype names of the types (for typeof sets).
var typeNamesOf = map[vtype]string{tAddr4: "ipv4_addr", tAddr6: "ipv6_addr", tProto: "inet_proto",
	tInt: "inet_service", tIface: "ifname", tMark: "mark", tMAC: "ether_addr", tCTState: "ct_state",
	tCTStatus: "ct_status", tICMPType: "icmp_type", tICMPv6Type: "icmpv6_type", tNFProto: "nf_proto",
	tPktType: "pkt_type", tTCPFlags: "tcp_flag", tEtherType: "ether_type", tDSCP: "dscp",
	tFibType: "fib_addrtype", tVerdict: "verdict", tBool: "boolean"}

func typeName(t vtype) string {
	if n, ok := typeNamesOf[t]; ok {
		return n
	}
	return "integer"
}
