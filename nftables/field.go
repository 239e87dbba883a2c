package nftables

import (
	"fmt"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// spec is what a left-hand expression reads: a packet field of some type,
// the implicit dependencies nft adds before it (netlink_linearize's payload
// dependencies), and a bitwise transform (x & and) ^ xor.
type spec struct {
	field nf.Field
	typ   vtype
	deps  []nf.Expr
	and   uint64
	xor   uint64
	// masked: a bitwise transform applies.
	masked bool
	// shift: constants are shifted left (ip dscp sits in the top six bits
	// of the TOS byte).
	shift uint
	// unknown names an expression the tool does not model.
	unknown string
}

type pfield struct {
	f nf.Field
	t vtype
}

// payloadFields are the header fields the model has, per protocol.
var payloadFields = map[string]map[string]pfield{
	"ip": {"saddr": {nf.FieldSrc, tAddr4}, "daddr": {nf.FieldDst, tAddr4}, "protocol": {nf.FieldProto, tProto},
		"ttl": {nf.FieldTTL, tInt}, "length": {nf.FieldLength, tInt}, "dscp": {nf.FieldTOS, tDSCP}},
	"ip6": {"saddr": {nf.FieldSrc, tAddr6}, "daddr": {nf.FieldDst, tAddr6}, "nexthdr": {nf.FieldProto, tProto},
		"hoplimit": {nf.FieldTTL, tInt}, "dscp": {nf.FieldTOS, tDSCP}},
	"tcp":     {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}, "flags": {nf.FieldTCPFlags, tTCPFlags}},
	"udp":     {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}},
	"udplite": {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}},
	"sctp":    {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}},
	"dccp":    {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}},
	"th":      {"sport": {nf.FieldSPort, tInt}, "dport": {nf.FieldDPort, tInt}},
	"icmp":    {"type": {nf.FieldICMPType, tICMPType}, "code": {nf.FieldICMPCode, tInt}},
	"icmpv6":  {"type": {nf.FieldICMPType, tICMPv6Type}, "code": {nf.FieldICMPCode, tInt}},
	"ether":   {"saddr": {nf.FieldSrcMAC, tMAC}},
}

// protoDeps: transport headers imply `meta l4proto X`.
var protoDeps = map[string]uint8{"tcp": nf.ProtoTCP, "udp": nf.ProtoUDP, "udplite": nf.ProtoUDPLite,
	"sctp": nf.ProtoSCTP, "dccp": 33, "icmp": nf.ProtoICMP, "icmpv6": nf.ProtoICMPv6}

var metaFields = map[string]pfield{
	"l4proto": {nf.FieldProto, tProto}, "nfproto": {nf.FieldNFProto, tNFProto}, "protocol": {nf.FieldNFProto, tEtherType},
	"mark": {nf.FieldMark, tMark}, "iifname": {nf.FieldInIface, tIface}, "oifname": {nf.FieldOutIface, tIface},
	"iif": {nf.FieldInIface, tIface}, "oif": {nf.FieldOutIface, tIface}, "skuid": {nf.FieldUID, tInt},
	"skgid": {nf.FieldGID, tInt}, "pkttype": {nf.FieldPktType, tPktType}, "length": {nf.FieldLength, tInt},
}

var ctFields = map[string]pfield{
	"state": {nf.FieldCTState, tCTState}, "status": {nf.FieldCTStatus, tCTStatus}, "mark": {nf.FieldCTMark, tMark},
	"l3proto": {nf.FieldNFProto, tNFProto}, "protocol": {nf.FieldProto, tProto},
}

var ctOrigFields = map[string]pfield{
	"saddr": {nf.FieldCTOrigSrc, tAddr4}, "daddr": {nf.FieldCTOrigDst, tAddr4},
	"ip saddr": {nf.FieldCTOrigSrc, tAddr4}, "ip daddr": {nf.FieldCTOrigDst, tAddr4},
	"ip6 saddr": {nf.FieldCTOrigSrc, tAddr6}, "ip6 daddr": {nf.FieldCTOrigDst, tAddr6},
	"proto-src": {nf.FieldCTOrigSPort, tInt}, "proto-dst": {nf.FieldCTOrigDPort, tInt},
}

// Shared dependency matches (read-only).
var (
	depNF4   = &nf.FieldMatch{Field: nf.FieldNFProto, Values: []nf.Value{nf.IntValue(2)}}
	depNF6   = &nf.FieldMatch{Field: nf.FieldNFProto, Values: []nf.Value{nf.IntValue(10)}}
	depProto = map[uint8]nf.Expr{}
)

func init() {
	for _, p := range protoDeps {
		depProto[p] = &nf.FieldMatch{Field: nf.FieldProto, Values: []nf.Value{nf.IntValue(uint64(p))}}
	}
}

// spec resolves a left-hand expression in a table of family fam.
func (b *builder) spec(fam nf.Family, n node) (spec, error) {
	k, v, ok := single(n)
	if !ok {
		return spec{}, fmt.Errorf("expected an expression, got %s", brief(n))
	}
	m, _ := obj(v)
	switch k {
	case "payload":
		return payloadSpec(fam, m)
	case "meta":
		return lookupSpec(metaFields, field(m, "key"), "meta")
	case "ct":
		return ctSpec(m)
	case "&", "|", "^":
		return b.bitwiseSpec(fam, k, v)
	}
	return spec{unknown: k}, nil
}

func payloadSpec(fam nf.Family, m map[string]any) (spec, error) {
	proto, fld := field(m, "protocol"), field(m, "field")
	if proto == "" {
		return spec{unknown: "raw payload"}, nil
	}
	pf, ok := payloadFields[proto][fld]
	if !ok {
		return spec{unknown: proto + " " + fld}, nil
	}
	sp := spec{field: pf.f, typ: pf.t}
	switch {
	case (proto == "ip" || proto == "icmp") && fam != nf.FamilyIPv4:
		sp.deps = []nf.Expr{depNF4}
	case (proto == "ip6" || proto == "icmpv6") && fam != nf.FamilyIPv6:
		sp.deps = []nf.Expr{depNF6}
	}
	if p, ok := protoDeps[proto]; ok {
		sp.deps = append(sp.deps, depProto[p])
	}
	if pf.t == tDSCP {
		sp.and, sp.masked, sp.shift = 0xfc, true, 2
	}
	return sp, nil
}

func lookupSpec(tab map[string]pfield, key, what string) (spec, error) {
	pf, ok := tab[key]
	if !ok {
		return spec{unknown: what + " " + key}, nil
	}
	return spec{field: pf.f, typ: pf.t}, nil
}

func ctSpec(m map[string]any) (spec, error) {
	key := field(m, "key")
	if dir := field(m, "dir"); dir != "" {
		if dir != "original" {
			return spec{unknown: "ct " + dir + " " + key}, nil
		}
		return lookupSpec(ctOrigFields, key, "ct original")
	}
	return lookupSpec(ctFields, key, "ct")
}

// bitwiseSpec folds `x & c`, `x | c`, `x ^ c` into (x & and) ^ xor, the
// form nft_bitwise evaluates.
func (b *builder) bitwiseSpec(fam nf.Family, op string, v node) (spec, error) {
	args := list(v)
	if len(args) != 2 {
		return spec{}, fmt.Errorf("operator %s needs two operands", op)
	}
	sp, err := b.spec(fam, args[0])
	if err != nil || sp.unknown != "" {
		return sp, err
	}
	c, err := b.constant(sp.typ, args[1])
	if err != nil {
		return spec{}, err
	}
	if !sp.masked {
		sp.and, sp.masked = ^uint64(0), true
	}
	switch op {
	case "&":
		sp.and, sp.xor = sp.and&c, sp.xor&c
	case "|":
		sp.and, sp.xor = sp.and&^c, sp.xor|c
	case "^":
		sp.xor ^= c
	}
	return sp, nil
}

// constant reads a constant of type t that may be a flag list or an OR of
// names (`syn | ack`, ["syn","ack"]).
func (b *builder) constant(t vtype, n node) (uint64, error) {
	vals, err := b.values(t, n)
	if err != nil {
		return 0, err
	}
	var c uint64
	for _, v := range vals {
		if v.Kind != nf.ValInt || v.Lo != v.Hi {
			return 0, fmt.Errorf("expected an integer constant, got %s", brief(n))
		}
		c |= v.Lo
	}
	return c, nil
}
