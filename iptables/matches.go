package iptables

import (
	"fmt"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// knownModules lists the options of every match module this package
// understands. A module not listed is kept as an unknown match.
var knownModules = map[string][]string{
	"tcp":       {"--sport", "--source-port", "--dport", "--destination-port", "--tcp-flags", "--syn", "--tcp-option"},
	"udp":       {"--sport", "--source-port", "--dport", "--destination-port"},
	"udplite":   {"--sport", "--source-port", "--dport", "--destination-port"},
	"sctp":      {"--sport", "--source-port", "--dport", "--destination-port", "--chunk-types"},
	"dccp":      {"--sport", "--source-port", "--dport", "--destination-port", "--dccp-types", "--dccp-option"},
	"icmp":      {"--icmp-type"},
	"icmp6":     {"--icmpv6-type"},
	"icmpv6":    {"--icmpv6-type"},
	"multiport": {"--sports", "--source-ports", "--dports", "--destination-ports", "--ports"},
	"conntrack": {"--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst",
		"--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport", "--ctstatus", "--ctexpire", "--ctdir"},
	"state":      {"--state"},
	"addrtype":   {"--src-type", "--dst-type", "--limit-iface-in", "--limit-iface-out"},
	"mark":       {"--mark"},
	"connmark":   {"--mark"},
	"comment":    {"--comment"},
	"statistic":  {"--mode", "--probability", "--every", "--packet"},
	"iprange":    {"--src-range", "--dst-range"},
	"length":     {"--length"},
	"ttl":        {"--ttl-eq", "--ttl-lt", "--ttl-gt", "--ttl"},
	"hl":         {"--hl-eq", "--hl-lt", "--hl-gt"},
	"pkttype":    {"--pkt-type"},
	"mac":        {"--mac-source"},
	"set":        {"--match-set", "--set", "--return-nomatch", "--update-counters", "--update-subcounters", "--packets-eq", "--packets-lt", "--packets-gt", "--bytes-eq", "--bytes-lt", "--bytes-gt"},
	"physdev":    {"--physdev-in", "--physdev-out", "--physdev-is-in", "--physdev-is-out", "--physdev-is-bridged"},
	"owner":      {"--uid-owner", "--gid-owner", "--socket-exists", "--suppl-groups"},
	"tos":        {"--tos"},
	"dscp":       {"--dscp", "--dscp-class"},
	"policy":     {"--dir", "--pol", "--strict", "--reqid", "--spi", "--proto", "--mode", "--tunnel-src", "--tunnel-dst", "--next"},
	"nfacct":     {"--nfacct-name"},
	"limit":      {"--limit", "--limit-burst"},
	"hashlimit":  {"--hashlimit", "--hashlimit-upto", "--hashlimit-above", "--hashlimit-burst", "--hashlimit-mode", "--hashlimit-srcmask", "--hashlimit-dstmask", "--hashlimit-name", "--hashlimit-htable-size", "--hashlimit-htable-max", "--hashlimit-htable-expire", "--hashlimit-htable-gcinterval", "--hashlimit-rate-match", "--hashlimit-rate-interval"},
	"connlimit":  {"--connlimit-upto", "--connlimit-above", "--connlimit-mask", "--connlimit-saddr", "--connlimit-daddr"},
	"recent":     {"--name", "--set", "--rcheck", "--update", "--remove", "--rsource", "--rdest", "--seconds", "--reap", "--hitcount", "--rttl", "--mask"},
	"quota":      {"--quota"},
	"time":       {"--datestart", "--datestop", "--timestart", "--timestop", "--monthdays", "--weekdays", "--kerneltz", "--utc", "--contiguous"},
	"socket":     {"--transparent", "--nowildcard", "--restore-skmark"},
	"string":     {"--algo", "--from", "--to", "--string", "--hex-string", "--icase"},
	"u32":        {"--u32"},
	"bpf":        {"--bytecode", "--object-pinned"},
	"cgroup":     {"--path", "--cgroup"},
	"helper":     {"--helper"},
	"rpfilter":   {"--loose", "--validmark", "--accept-local", "--invert"},
	"connbytes":  {"--connbytes", "--connbytes-dir", "--connbytes-mode"},
	"ecn":        {"--ecn-tcp-cwr", "--ecn-tcp-ece", "--ecn-ip-ect"},
	"tcpmss":     {"--mss"},
	"frag":       {"--fragid", "--fraglen", "--fragres", "--fragfirst", "--fragmore", "--fraglast"},
	"ipv6header": {"--header", "--soft"},
	"rt":         {"--rt-type", "--rt-segsleft", "--rt-len", "--rt-0-res", "--rt-0-addrs", "--rt-0-not-strict"},
	"hbh":        {"--hbh-len", "--hbh-opts"},
	"dst":        {"--dst-len", "--dst-opts"},
	"esp":        {"--espspi"},
	"ah":         {"--ahspi", "--ahlen", "--ahres"},
	"devgroup":   {"--src-group", "--dst-group"},
	"cpu":        {"--cpu"},
	"realm":      {"--realm"},
	"cluster":    {"--cluster-total-nodes", "--cluster-local-node", "--cluster-local-nodemask", "--cluster-hash-seed"},
	"condition":  {"--condition"},
	"osf":        {"--genre", "--ttl", "--log"},
}

// moduleOptions indexes knownModules: module → option → known.
var moduleOptions = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for mod, opts := range knownModules {
		out[mod] = map[string]bool{}
		for _, o := range opts {
			out[mod][o] = true
		}
	}
	return out
}()

func moduleKnows(mod, option string) bool { return moduleOptions[mod][option] }

// matchBuilder turns one module's options into expressions.
type matchBuilder struct {
	fam   nf.IPFamily
	proto uint8
}

// build returns the expressions for module mod with options opts.
func (b *matchBuilder) build(mod string, opts []opt) ([]nf.Expr, error) {
	switch mod {
	case "tcp", "udp", "udplite", "sctp", "dccp":
		return b.ports(mod, opts)
	case "icmp", "icmp6", "icmpv6":
		return b.icmp(opts)
	case "multiport":
		return b.multiport(opts)
	case "conntrack", "state":
		return b.conntrack(opts)
	case "addrtype":
		return b.addrtype(opts)
	case "mark", "connmark":
		return b.mark(mod, opts)
	case "comment":
		return b.comment(opts)
	case "statistic":
		return b.statistic(opts)
	case "iprange":
		return b.iprange(opts)
	case "length", "ttl", "hl", "pkttype", "tos", "dscp":
		return b.simple(mod, opts)
	case "mac", "owner":
		return b.unknowable(mod, opts)
	case "set":
		return b.set(opts)
	case "physdev":
		return b.physdev(opts)
	case "policy":
		return b.policy(opts)
	case "nfacct":
		return nil, nil
	case "frag", "rt", "hbh", "dst", "esp", "ah", "ipv6header":
		return b.extHeader(mod, opts)
	case "recent":
		return b.recent(opts)
	}
	return []nf.Expr{&nf.StatefulMatch{Key: mod, Text: moduleText(mod, opts), Known: knownModules[mod] != nil}}, nil
}

func moduleText(mod string, opts []opt) string {
	s := "-m " + mod
	for _, o := range opts {
		s += " " + optText(o)
	}
	return s
}

func one(o opt) (string, error) {
	if len(o.args) != 1 {
		return "", fmt.Errorf("option %s takes one argument", o.name)
	}
	return o.args[0], nil
}

func (b *matchBuilder) ports(mod string, opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		switch o.name {
		case "--sport", "--source-port", "--dport", "--destination-port":
			a, err := one(o)
			if err != nil {
				return nil, err
			}
			v, err := parsePortRange(a)
			if err != nil {
				return nil, err
			}
			f := nf.FieldDPort
			if o.name == "--sport" || o.name == "--source-port" {
				f = nf.FieldSPort
			}
			out = append(out, &nf.FieldMatch{Field: f, Values: []nf.Value{v}, Neg: o.neg})
		case "--tcp-flags":
			if len(o.args) != 2 {
				return nil, fmt.Errorf("--tcp-flags takes a mask and a comparison")
			}
			out = append(out, tcpFlags(o.args[0], o.args[1], o.neg)...)
		case "--syn":
			out = append(out, tcpFlags("FIN,SYN,RST,ACK", "SYN", o.neg)...)
		default:
			out = append(out, &nf.StatefulMatch{Key: mod, Text: moduleText(mod, []opt{o}), Known: true})
		}
	}
	return out, nil
}

func tcpFlags(mask, comp string, neg bool) []nf.Expr {
	m, err1 := parseTCPFlags(mask)
	c, err2 := parseTCPFlags(comp)
	if err1 != nil || err2 != nil {
		return []nf.Expr{&nf.StatefulMatch{Key: "tcp", Text: "--tcp-flags " + mask + " " + comp, Known: false}}
	}
	// xt_tcpudp: (flags & mask) == comp, comp not masked.
	return []nf.Expr{&nf.FieldMatch{Field: nf.FieldTCPFlags, Mask: uint64(m), Values: []nf.Value{nf.IntValue(uint64(c))}, Neg: neg}}
}

func (b *matchBuilder) icmp(opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		t, c, err := parseICMPType(a, o.name == "--icmpv6-type")
		if err != nil {
			return nil, err
		}
		if t < 0 {
			// "any": matches every ICMP packet; negated, none.
			out = append(out, &nf.FieldMatch{Field: nf.FieldICMPType, Values: []nf.Value{nf.IntRange(0, 255)}, Neg: o.neg})
			continue
		}
		exprs := []nf.Expr{&nf.FieldMatch{Field: nf.FieldICMPType, Values: []nf.Value{nf.IntValue(uint64(t))}}}
		if c >= 0 {
			exprs = append(exprs, &nf.FieldMatch{Field: nf.FieldICMPCode, Values: []nf.Value{nf.IntValue(uint64(c))}})
		}
		if o.neg {
			out = append(out, &nf.NotAll{Exprs: exprs})
		} else {
			out = append(out, exprs...)
		}
	}
	return out, nil
}

func (b *matchBuilder) multiport(opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		vals, err := parsePortList(a)
		if err != nil {
			return nil, err
		}
		if n := countPorts(a); n > 15 {
			return nil, fmt.Errorf("too many ports in %q: multiport allows 15", a)
		}
		f := nf.FieldPorts
		switch o.name {
		case "--sports", "--source-ports":
			f = nf.FieldSPort
		case "--dports", "--destination-ports":
			f = nf.FieldDPort
		}
		out = append(out, &nf.FieldMatch{Field: f, Values: vals, Neg: o.neg})
	}
	return out, nil
}

// countPorts counts multiport entries the way the kernel limits them
// (XT_MULTI_PORTS = 15, a range counting two).
func countPorts(s string) int {
	n := 0
	for _, p := range strings.Split(s, ",") {
		n++
		if strings.Contains(p, ":") {
			n++
		}
	}
	return n
}

func (b *matchBuilder) conntrack(opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		e, err := b.ctOption(o, a)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (b *matchBuilder) ctOption(o opt, a string) (nf.Expr, error) {
	switch o.name {
	case "--ctstate", "--state":
		st, err := parseStates(a)
		if err != nil {
			return nil, err
		}
		var e nf.Expr = &nf.FieldMatch{Field: nf.FieldCTState, Op: nf.OpAnyBit, Mask: uint64(st), Neg: o.neg}
		if vs := virtualStates(a); vs != 0 {
			e = &nf.AnyOf{Exprs: []nf.Expr{e, &nf.FieldMatch{Field: nf.FieldCTStatus, Op: nf.OpAnyBit, Mask: vs}}, Neg: o.neg}
			e.(*nf.AnyOf).Exprs[0].(*nf.FieldMatch).Neg = false
		}
		return e, nil
	case "--ctorigsrc", "--ctorigdst":
		v, err := parseAddr(a, b.fam)
		if err != nil {
			return nil, err
		}
		f := nf.FieldCTOrigSrc
		if o.name == "--ctorigdst" {
			f = nf.FieldCTOrigDst
		}
		return &nf.FieldMatch{Field: f, Values: []nf.Value{v}, Neg: o.neg}, nil
	case "--ctorigsrcport", "--ctorigdstport":
		v, err := parsePortRange(a)
		if err != nil {
			return nil, err
		}
		f := nf.FieldCTOrigSPort
		if o.name == "--ctorigdstport" {
			f = nf.FieldCTOrigDPort
		}
		return &nf.FieldMatch{Field: f, Values: []nf.Value{v}, Neg: o.neg}, nil
	case "--ctproto":
		p, err := parseProto(a)
		if err != nil {
			return nil, err
		}
		return &nf.FieldMatch{Field: nf.FieldProto, Values: []nf.Value{nf.IntValue(uint64(p))}, Neg: o.neg}, nil
	case "--ctstatus":
		var m uint64
		for _, n := range strings.Split(a, ",") {
			v, ok := ctStatusNames[strings.ToUpper(n)]
			if !ok {
				return nil, fmt.Errorf("unknown conntrack status %q", n)
			}
			m |= v
		}
		if m == 0 {
			return &nf.FieldMatch{Field: nf.FieldCTStatus, Op: nf.OpIn, Values: []nf.Value{nf.IntValue(0)}, Neg: o.neg}, nil
		}
		return &nf.FieldMatch{Field: nf.FieldCTStatus, Op: nf.OpAnyBit, Mask: m, Neg: o.neg}, nil
	case "--ctdir":
		// The first packet of a flow travels in the ORIGINAL direction.
		orig := strings.EqualFold(a, "ORIGINAL")
		return nf.Const(orig != o.neg), nil
	}
	return &nf.StatefulMatch{Key: "conntrack", Text: "-m conntrack " + optText(o), Known: true}, nil
}

// virtualStates returns the ct status bits for the SNAT/DNAT pseudo-states
// of --ctstate (xt_conntrack: XT_CONNTRACK_STATE_SNAT/DNAT test
// IPS_SRC_NAT/IPS_DST_NAT).
func virtualStates(s string) uint64 {
	var m uint64
	for _, n := range strings.Split(s, ",") {
		switch strings.ToUpper(n) {
		case "SNAT":
			m |= nf.CTStatusSNAT
		case "DNAT":
			m |= nf.CTStatusDNAT
		}
	}
	return m
}

func (b *matchBuilder) addrtype(opts []opt) ([]nf.Expr, error) {
	m := &nf.AddrTypeMatch{}
	for _, o := range opts {
		switch o.name {
		case "--limit-iface-in":
			m.LimitIn = true
		case "--limit-iface-out":
			m.LimitOut = true
		case "--src-type", "--dst-type":
			a, err := one(o)
			if err != nil {
				return nil, err
			}
			var t nf.AddrType
			for _, n := range strings.Split(a, ",") {
				x, ok := nf.AddrTypeByName(n)
				if !ok {
					return nil, fmt.Errorf("unknown address type %q", n)
				}
				t |= x
			}
			if o.name == "--src-type" {
				m.Src, m.SrcNeg = t, o.neg
			} else {
				m.Dst, m.DstNeg = t, o.neg
			}
		}
	}
	return []nf.Expr{m}, nil
}

func (b *matchBuilder) mark(mod string, opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		v, m, _, err := parseValueMask(a)
		if err != nil {
			return nil, err
		}
		f := nf.FieldMark
		if mod == "connmark" {
			f = nf.FieldCTMark
		}
		// xt_mark/xt_connmark test (mark & mask) == value with the value as
		// given: bits of value outside mask make the match impossible.
		out = append(out, &nf.FieldMatch{Field: f, Mask: uint64(m), Values: []nf.Value{nf.IntValue(uint64(v))}, Neg: o.neg})
	}
	return out, nil
}

func (b *matchBuilder) comment(opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		out = append(out, &nf.CommentMatch{Text: strings.Join(o.args, " ")})
	}
	return out, nil
}

func (b *matchBuilder) statistic(opts []opt) ([]nf.Expr, error) {
	m := &nf.StatisticMatch{}
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		switch o.name {
		case "--mode":
			m.Random = a == "random"
			if a != "random" && a != "nth" {
				return nil, fmt.Errorf("unknown statistic mode %q", a)
			}
		case "--probability":
			p, err := strconv.ParseFloat(a, 64)
			if err != nil || p < 0 || p > 1 {
				return nil, fmt.Errorf("invalid probability %q", a)
			}
			// The kernel compares a random u32 with round(p * 2^31)
			// (libxt_statistic.c: 0x80000000 * p).
			m.Prob, m.Neg = quantizeProb(p), o.neg
		case "--every", "--packet":
			n, err := parseUint(a, 32)
			if err != nil {
				return nil, err
			}
			if o.name == "--every" {
				m.Every, m.Neg = uint32(n), o.neg
			} else {
				m.Packet = uint32(n)
			}
		}
	}
	return []nf.Expr{m}, nil
}

// quantizeProb returns the probability the kernel really applies:
// xt_statistic matches when (get_random_u32() & 0x7FFFFFFF) < prob, with
// prob = lround(0x80000000 * p) (libxt_statistic.c).
func quantizeProb(p float64) float64 {
	q := float64(int64(p*0x80000000 + 0.5))
	return q / 0x80000000
}

func (b *matchBuilder) iprange(opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		lo, hi, ok := strings.Cut(a, "-")
		if !ok {
			hi = lo
		}
		l, err1 := parseAddr(lo, b.fam)
		h, err2 := parseAddr(hi, b.fam)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("invalid address range %q", a)
		}
		f := nf.FieldSrc
		if o.name == "--dst-range" {
			f = nf.FieldDst
		}
		out = append(out, &nf.FieldMatch{Field: f, Values: []nf.Value{nf.AddrRange(l.AddrLo(), h.AddrLo())}, Neg: o.neg})
	}
	return out, nil
}

func (b *matchBuilder) simple(mod string, opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		a, err := one(o)
		if err != nil {
			return nil, err
		}
		e, err := simpleOption(mod, o, a)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func simpleOption(mod string, o opt, a string) (nf.Expr, error) {
	switch o.name {
	case "--length":
		v, err := parsePortRange(a)
		return &nf.FieldMatch{Field: nf.FieldLength, Values: []nf.Value{v}, Neg: o.neg}, err
	case "--ttl-eq", "--hl-eq", "--ttl", "--ttl-lt", "--hl-lt", "--ttl-gt", "--hl-gt":
		n, err := parseUint(a, 8)
		if err != nil {
			return nil, err
		}
		op := nf.OpIn
		if strings.HasSuffix(o.name, "-lt") {
			op = nf.OpLt
		} else if strings.HasSuffix(o.name, "-gt") {
			op = nf.OpGt
		}
		return &nf.FieldMatch{Field: nf.FieldTTL, Op: op, Values: []nf.Value{nf.IntValue(n)}, Neg: o.neg}, nil
	case "--pkt-type":
		t, ok := map[string]nf.PktType{"unicast": nf.PktHost, "host": nf.PktHost, "broadcast": nf.PktBroadcast, "multicast": nf.PktMulticast, "otherhost": nf.PktOtherHost}[strings.ToLower(a)]
		if !ok {
			return nil, fmt.Errorf("unknown packet type %q", a)
		}
		return &nf.FieldMatch{Field: nf.FieldPktType, Values: []nf.Value{nf.IntValue(uint64(t))}, Neg: o.neg}, nil
	case "--tos":
		v, m, _, err := parseValueMask(a)
		if err != nil {
			return nil, err
		}
		if m == 0xffffffff {
			m = 0xff
		}
		return &nf.FieldMatch{Field: nf.FieldTOS, Mask: uint64(m), Values: []nf.Value{nf.IntValue(uint64(v))}, Neg: o.neg}, nil
	case "--dscp":
		n, err := parseUint(a, 8)
		if err != nil {
			return nil, err
		}
		return &nf.FieldMatch{Field: nf.FieldTOS, Mask: 0xfc, Values: []nf.Value{nf.IntValue(n << 2)}, Neg: o.neg}, nil
	}
	return &nf.StatefulMatch{Key: mod, Text: moduleText(mod, []opt{o}), Known: false}, nil
}

// unknowable builds matches on data the simulated packet usually lacks (MAC
// source, socket owner): they fork when the packet does not carry it.
func (b *matchBuilder) unknowable(mod string, opts []opt) ([]nf.Expr, error) {
	var out []nf.Expr
	for _, o := range opts {
		text := moduleText(mod, []opt{o})
		switch o.name {
		case "--mac-source":
			a, _ := one(o)
			out = append(out, &nf.IfKnown{Match: &nf.FieldMatch{Field: nf.FieldSrcMAC, Values: []nf.Value{{Kind: nf.ValString, Str: strings.ToLower(a)}}, Neg: o.neg}, Key: "mac", Text: text})
		case "--uid-owner", "--gid-owner":
			a, _ := one(o)
			lo, hi, _ := strings.Cut(a, "-")
			l, err := parseUint(lo, 32)
			if err != nil {
				out = append(out, &nf.StatefulMatch{Key: "owner", Text: text, Known: true})
				continue
			}
			h := l
			if hi != "" {
				if h, err = parseUint(hi, 32); err != nil {
					return nil, err
				}
			}
			f := nf.FieldUID
			if o.name == "--gid-owner" {
				f = nf.FieldGID
			}
			out = append(out, &nf.IfKnown{Match: &nf.FieldMatch{Field: f, Values: []nf.Value{nf.IntRange(l, h)}, Neg: o.neg}, Key: "owner", Text: text})
		default:
			out = append(out, &nf.StatefulMatch{Key: mod, Text: text, Known: true})
		}
	}
	return out, nil
}

func (b *matchBuilder) set(opts []opt) ([]nf.Expr, error) {
	m := &nf.SetMatch{Text: moduleText("set", opts)}
	for _, o := range opts {
		if o.name == "--match-set" || o.name == "--set" {
			if len(o.args) != 2 {
				return nil, fmt.Errorf("%s takes a set name and flags", o.name)
			}
			m.Set, m.Neg, m.IPSetDirs = o.args[0], o.neg, strings.Split(o.args[1], ",")
		}
	}
	if m.Set == "" {
		return nil, fmt.Errorf("-m set needs --match-set")
	}
	return []nf.Expr{m}, nil
}

func (b *matchBuilder) physdev(opts []opt) ([]nf.Expr, error) {
	m := &nf.PhysdevMatch{Text: moduleText("physdev", opts)}
	for _, o := range opts {
		if o.name == "--physdev-is-bridged" {
			m.IsBridged, m.BridgedNeg = true, o.neg
		} else {
			m.Other = true
		}
	}
	return []nf.Expr{m}, nil
}

// policy: the simulated packets carry no IPsec state, so "--pol none"
// holds and "--pol ipsec" does not (xt_policy).
func (b *matchBuilder) policy(opts []opt) ([]nf.Expr, error) {
	for _, o := range opts {
		if o.name == "--pol" && len(o.args) == 1 {
			return []nf.Expr{nf.Const(o.args[0] == "none")}, nil
		}
	}
	return []nf.Expr{nf.Const(false)}, nil
}

// extHeader: IPv6 extension headers and IPsec headers the simulated packet
// does not have; the match fails (ip6t_frag etc. return false when the
// header is absent), and holds when negated for ipv6header.
func (b *matchBuilder) extHeader(mod string, opts []opt) ([]nf.Expr, error) {
	if mod == "ipv6header" {
		for _, o := range opts {
			if o.name == "--header" {
				return []nf.Expr{nf.Const(o.neg)}, nil
			}
		}
	}
	return []nf.Expr{nf.Const(false)}, nil
}

func (b *matchBuilder) recent(opts []opt) ([]nf.Expr, error) {
	text := moduleText("recent", opts)
	for _, o := range opts {
		if o.name == "--set" {
			return []nf.Expr{&nf.StatefulMatch{Key: "recent", Text: text, Known: true, SideEffectOnly: !o.neg}}, nil
		}
	}
	return []nf.Expr{&nf.StatefulMatch{Key: "recent", Text: text, Known: true}}, nil
}

func parseProto(s string) (uint8, error) {
	if p, ok := nf.ProtoByName[strings.ToLower(s)]; ok {
		return p, nil
	}
	if s == "all" || s == "0" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return uint8(n), nil
}
