package nftables

import (
	"fmt"
	"slices"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// lowerRule turns a rule's statements into expressions in evaluation
// order. Counters are not expressions: they go to Rule.Counters.
func (b *builder) lowerRule(t *nf.Table, stmts []node) ([]nf.Expr, nf.Counters, error) {
	out := make([]nf.Expr, 0, len(stmts)+2)
	var ctr nf.Counters
	for i, st := range stmts {
		k, v, ok := single(st)
		if !ok {
			return nil, ctr, fmt.Errorf("statement %d: expected an object with one key, got %s", i+1, brief(st))
		}
		if tooDeep(v, 0) {
			return nil, ctr, fmt.Errorf("statement %d (%s): %w", i+1, k, errTooDeep)
		}
		if k == "counter" {
			ctr = counterOf(v)
			continue
		}
		if k == "reject" {
			v = rejectContext(t.Family, v, out)
			stmts[i] = map[string]any{"reject": v}
		}
		es, err := b.stmt(t, k, v, st)
		if err != nil {
			return nil, ctr, fmt.Errorf("statement %d (%s): %w", i+1, k, err)
		}
		for _, e := range es {
			if !repeated(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, ctr, nil
}

// repeated reports whether e is a comparison already made earlier in the
// rule: implicit dependencies (`meta nfproto ipv6` before every ip6
// payload) and explicit ones that say the same. nft folds them the same
// way when it lists a rule; dropping them changes no result.
func repeated(prev []nf.Expr, e nf.Expr) bool {
	m, ok := e.(*nf.FieldMatch)
	if !ok {
		return false
	}
	for _, p := range prev {
		if q, ok := p.(*nf.FieldMatch); ok && (q == m || q.Field == m.Field && q.Op == m.Op && q.Mask == m.Mask &&
			q.Neg == m.Neg && q.AbsentMatches == m.AbsentMatches && slices.Equal(q.Values, m.Values)) {
			return true
		}
	}
	return false
}

// rejectContext gives a plain `reject` in an inet table the ICMP type of
// the family the rule already requires, as nft does when it adds the rule
// (an IPv4-only rule rejects with icmp, not icmpx).
func rejectContext(fam nf.Family, v node, prev []nf.Expr) node {
	if m, _ := obj(v); fam != nf.FamilyInet || field(m, "type") != "" {
		return v
	}
	for _, e := range prev {
		m, ok := e.(*nf.FieldMatch)
		if !ok || m.Neg || len(m.Values) != 1 {
			continue
		}
		typ := ""
		switch {
		case m.Field == nf.FieldNFProto:
			typ = map[uint64]string{2: "icmp", 10: "icmpv6"}[m.Values[0].Lo]
		case m.Field == nf.FieldProto && m.Values[0].Lo == uint64(nf.ProtoICMPv6):
			typ = "icmpv6"
		case m.Field == nf.FieldProto && m.Values[0].Lo == uint64(nf.ProtoICMP):
			typ = "icmp"
		}
		if typ != "" {
			return map[string]any{"type": typ, "expr": "port-unreachable"}
		}
	}
	return v
}

func counterOf(v node) nf.Counters {
	m, ok := obj(v)
	if !ok {
		return nf.Counters{}
	}
	p, err1 := num(m["packets"])
	by, err2 := num(m["bytes"])
	return nf.Counters{Packets: p, Bytes: by, Known: err1 == nil && err2 == nil}
}

// stmt lowers one statement.
func (b *builder) stmt(t *nf.Table, k string, v, st node) ([]nf.Expr, error) {
	m, _ := obj(v)
	if k == "match" {
		return b.match(t, m, func() string { return b.printStmt(t.Family, st) })
	}
	if vd, ok := verdictOf(k, v); ok {
		return []nf.Expr{&nf.VerdictExpr{V: vd}}, nil
	}
	text := b.printStmt(t.Family, st)
	switch k {
	case "vmap":
		return b.vmap(t, m, text)
	case "reject":
		return []nf.Expr{b.rejectExpr(t, m)}, nil
	case "queue":
		q, _ := num(m["num"])
		return []nf.Expr{&nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictQueue, QueueNum: uint16(q),
			QueueBypass: strings.Contains(strings.Join(strList(m["flags"]), ","), "bypass")}}}, nil
	case "mangle":
		return b.mangle(t, m, text)
	case "dnat", "snat", "masquerade", "redirect":
		return b.nat(t, k, m, text)
	case "notrack":
		return []nf.Expr{&nf.NotrackStmt{Text: text}}, nil
	case "limit", "quota", "meter":
		return []nf.Expr{&nf.StatefulMatch{Key: k, Text: text, Known: true}}, nil
	case "xt":
		return []nf.Expr{b.xtExpr(t, m, text)}, nil
	case "flow":
		return []nf.Expr{&FlowOffload{Table: strings.TrimPrefix(field(m, "flowtable"), "@"), Text: text}}, nil
	case "log", "set", "map", "ct helper", "ct timeout", "ct expectation", "dup", "fwd", "secmark", "nftrace":
		return []nf.Expr{&nf.NopStmt{Text: text}}, nil
	case "tproxy", "synproxy":
		return []nf.Expr{&nf.UnknownTarget{Name: k, Text: text}}, nil
	}
	b.warn(b.at, fmt.Sprintf("table %s: statement %q is not modelled; it forks as an unknown target", t, k))
	return []nf.Expr{&nf.UnknownTarget{Name: k, Text: text}}, nil
}

// rejectExpr: `reject` (icmp port-unreachable for ip, icmpv6 for ip6,
// icmpx for inet), `reject with tcp reset`, `reject with icmpx …`. The
// reply is spelled as iptables does where it has a name for it.
func (b *builder) rejectExpr(t *nf.Table, m map[string]any) nf.Expr {
	fam := t.Family
	typ, code := field(m, "type"), field(m, "expr")
	if code == "" {
		code = "port-unreachable"
	}
	var with string
	switch typ {
	case "tcp reset":
		with = "tcp-reset"
	case "icmpv6":
		with = "icmp6-" + code
	case "icmp":
		with = "icmp-" + code
	case "icmpx":
		with = "icmpx-" + code
	default:
		with = map[nf.Family]string{nf.FamilyIPv6: "icmp6-", nf.FamilyInet: "icmpx-"}[fam]
		if with == "" {
			with = "icmp-"
		}
		with += code
	}
	if s, ok := nftRejectSpellings[with]; ok {
		with = s
	}
	r, ok := nf.ParseRejectType(with)
	if !ok {
		r = nf.RejectUnknown
		b.warn(b.at, fmt.Sprintf("table %s: reject reply %q is not known; taken as an ICMP error", t, with))
	}
	return &nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictReject, RejectWith: r}}
}

// nftRejectSpellings maps nft's names of ICMP codes, prefixed as
// rejectExpr does, to iptables' where they differ.
var nftRejectSpellings = map[string]string{
	"icmp-prot-unreachable": "icmp-proto-unreachable", "icmp6-admin-prohibited": "icmp6-adm-prohibited",
}

// xtExpr: an iptables-nft match or target nft shows without its options.
func (b *builder) xtExpr(t *nf.Table, m map[string]any, text string) nf.Expr {
	b.xt[t] = true
	name := field(m, "name")
	switch field(m, "type") {
	case "target":
		return &nf.UnknownTarget{Name: name, Text: text}
	case "watcher":
		return &nf.NopStmt{Text: text}
	}
	if name == "comment" {
		return &nf.CommentMatch{}
	}
	return &nf.StatefulMatch{Key: "unknown:xt-" + name, Text: text}
}

// mangle lowers `meta mark set …` and `ct mark set …`; other keys (meta
// priority, nftrace, ip dscp, tcp option maxseg) change nothing modelled.
func (b *builder) mangle(t *nf.Table, m map[string]any, text string) ([]nf.Expr, error) {
	dst, err := b.spec(t.Family, m["key"])
	if err != nil {
		return nil, err
	}
	if dst.field != nf.FieldMark && dst.field != nf.FieldCTMark || dst.unknown != "" {
		return []nf.Expr{&nf.NopStmt{Text: text}}, nil
	}
	conn := dst.field == nf.FieldCTMark
	if _, _, isExpr := single(m["value"]); !isExpr {
		c, err := b.constant(tMark, m["value"])
		if err != nil {
			return nil, err
		}
		return []nf.Expr{&nf.MarkStmt{Value: uint32(c), Mask: ^uint32(0), Conn: conn, Text: text}}, nil
	}
	src, err := b.spec(t.Family, m["value"])
	if err != nil {
		return nil, err
	}
	return markFrom(dst, src, conn, text)
}

// markFrom: mark = (src & and) ^ xor, src being the same mark (MarkStmt)
// or the other one (ConnmarkCopyStmt).
func markFrom(dst, src spec, conn bool, text string) ([]nf.Expr, error) {
	and, xor := src.and, src.xor
	if !src.masked {
		and = ^uint64(0)
	}
	switch {
	case src.field == dst.field && src.unknown == "":
		return []nf.Expr{&nf.MarkStmt{Value: uint32(xor), Mask: ^uint32(and), Conn: conn, Text: text}}, nil
	case (src.field == nf.FieldMark || src.field == nf.FieldCTMark) && src.unknown == "" && xor == 0:
		cp := &nf.ConnmarkCopyStmt{Save: conn, NFMask: ^uint32(0), CTMask: ^uint32(0), Text: text}
		if conn {
			cp.NFMask = uint32(and)
		} else {
			cp.CTMask = uint32(and)
		}
		return []nf.Expr{cp}, nil
	}
	return []nf.Expr{&nf.UnknownTarget{Name: "mark set", Text: text}}, nil
}

// ruleTarget names what decides in a rule: its last statement other than
// a counter, unless that is a match.
func ruleTarget(fam nf.Family, stmts []node) string {
	for i := len(stmts) - 1; i >= 0; i-- {
		k, v, _ := single(stmts[i])
		switch k {
		case "counter":
			continue
		case "match", "":
			return ""
		}
		if vd, ok := verdictOf(k, v); ok {
			if vd.Kind == nf.VerdictJump || vd.Kind == nf.VerdictGoto {
				return vd.Chain
			}
			return vd.Kind.String()
		}
		return (&printer{fam: fam}).stmt(stmts[i])
	}
	return ""
}
