package iptables

import (
	"net/netip"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// listRow is a rule row split into its columns (print_rule_details,
// print_fragment, print_ifaces, print_ipv4_addresses).
type listRow struct {
	target   string
	proto    field
	opt      string
	in, out  field
	src, dst field
	// rest is the match and target text after the destination column.
	rest string
}

// rule reads one rule row and appends the rule to the current chain.
func (p *listParser) rule(line string, f []field) error {
	r := &nf.Rule{Text: strings.TrimSpace(line)}
	r.SetPos(nf.Pos{Line: p.line}) // the file is the table's
	i, err := p.ruleNumbers(r, f, line)
	if err != nil {
		return err
	}
	row, err := p.splitRow(f[i:], line)
	if err != nil {
		return err
	}
	p.detectFamily(row)
	exprs, err := p.headerExprs(row, line)
	if err != nil {
		return err
	}
	tr := p.trailer(row)
	r.Exprs = append(exprs, tr.exprs...)
	r.SetTarget(tr.label)
	r.SetComment(tr.comment)
	p.chain.AddRule(r)
	return nil
}

// ruleNumbers reads the num, pkts and bytes columns the header announced
// and returns the index of the next field.
func (p *listParser) ruleNumbers(r *nf.Rule, f []field, line string) (int, error) {
	i := 0
	if p.cols.num {
		n, err := strconv.Atoi(f[0].s)
		if err != nil || n < 1 {
			return 0, p.errorf(f[0].col, line, "invalid rule number %q", f[0].s)
		}
		if want := len(p.chain.Rules) + 1; n != want {
			p.warn("rule numbered %d in chain %s, expected %d: rules are missing or repeated", n, p.chain.Name, want)
		}
		i++
	}
	if !p.cols.counters {
		return i, nil
	}
	if len(f) < i+2 {
		return 0, p.errorf(len(line), line, "rule row ends before its pkts and bytes columns")
	}
	pk, err := p.count(f[i].s)
	if err != nil {
		return 0, p.errorf(f[i].col, line, "%v", err)
	}
	by, err := p.count(f[i+1].s)
	if err != nil {
		return 0, p.errorf(f[i+1].col, line, "%v", err)
	}
	r.SetCounters(nf.Counters{Packets: pk, Bytes: by, Known: true})
	return i + 2, nil
}

// isOptField reports whether s is an opt column value: "--", "-f" or
// "!f" (print_fragment).
func isOptField(s string) bool { return s == "--" || s == "-f" || s == "!f" }

// splitRow assigns the fields after the counters to columns. The target
// column is blank for rules without a target, which the opt column
// (always one of "--", "-f", "!f") gives away. ip6tables before 1.6
// printed the opt column blank; such rows are told by their addresses.
func (p *listParser) splitRow(f []field, line string) (listRow, error) {
	var row listRow
	if len(f) < 3 {
		return row, p.errorf(len(line), line, "rule row has too few columns")
	}
	fixed := 3 // prot, source, destination
	if p.cols.ifaces {
		fixed += 2
	}
	opt := p.cols.opt && !blankOpt(f, fixed)
	if opt {
		fixed++
	}
	if hasTarget(f, fixed, opt) {
		row.target, f = f[0].s, f[1:]
	}
	if len(f) < fixed {
		return row, p.errorf(len(line), line, "rule row has too few columns")
	}
	row.proto, f = f[0], f[1:]
	if opt {
		if !isOptField(f[0].s) {
			return row, p.errorf(f[0].col, line, "invalid opt column %q (--, -f or !f)", f[0].s)
		}
		row.opt, f = f[0].s, f[1:]
	}
	if p.cols.ifaces {
		row.in, row.out, f = f[0], f[1], f[2:]
	}
	row.src, row.dst = f[0], f[1]
	end := row.dst.col - 1 + len(row.dst.s)
	row.rest = line[end:]
	return row, nil
}

// hasTarget tells whether a row's first field is its target: by the opt
// column when there is one, else by where the two address columns are.
func hasTarget(f []field, fixed int, opt bool) bool {
	if opt {
		return isOptField(f[2].s) || !isOptField(f[1].s)
	}
	return len(f) > fixed && looksAddr(f[fixed-1].s) && looksAddr(f[fixed].s)
}

// blankOpt reports whether a row has a blank opt column: no opt value
// where one would be, and addresses where they would be without it.
func blankOpt(f []field, fixed int) bool {
	if isOptField(f[1].s) || isOptField(f[2].s) {
		return false
	}
	noTarget := len(f) >= fixed && looksAddr(f[fixed-2].s) && looksAddr(f[fixed-1].s)
	return noTarget || hasTarget(f, fixed, false)
}

// looksAddr reports whether s can be an address column.
func looksAddr(s string) bool {
	s = strings.TrimPrefix(s, "!")
	if s == "anywhere" || strings.Contains(s, ":") {
		return true
	}
	_, err := netip.ParsePrefix(s)
	_, err2 := netip.ParseAddr(s)
	return err == nil || err2 == nil
}

// detectFamily tells IPv6 from IPv4 by the first address column seen,
// unless Options.Family fixed it.
func (p *listParser) detectFamily(row listRow) {
	if p.fam != 0 {
		return
	}
	for _, a := range []string{row.src.s, row.dst.s} {
		a = strings.TrimPrefix(a, "!")
		if strings.Contains(a, ":") {
			p.fam = nf.IPv6
			return
		}
		if a != "" && a[0] >= '0' && a[0] <= '9' {
			p.fam = nf.IPv4
			return
		}
	}
}

// headerExprs builds the IP header matches in the order iptables-save
// lists them: -s, -d, -i, -o, -p, -f.
func (p *listParser) headerExprs(row listRow, line string) ([]nf.Expr, error) {
	src, err := p.addrExpr(row.src, nf.FieldSrc, "-s", line)
	if err != nil {
		return nil, err
	}
	dst, err := p.addrExpr(row.dst, nf.FieldDst, "-d", line)
	if err != nil {
		return nil, err
	}
	ifaces, err := p.ifaceExprs(row, line)
	if err != nil {
		return nil, err
	}
	pr, err := p.protoExpr(row.proto, line)
	if err != nil {
		return nil, err
	}
	out := append(append(append(src, dst...), ifaces...), pr...)
	switch row.opt {
	case "-f":
		out = append(out, nf.Const(false))
	case "!f":
		out = append(out, nf.Const(true))
	}
	return out, nil
}

// ifaceExprs reads the in and out columns, shown with -v only.
func (p *listParser) ifaceExprs(row listRow, line string) ([]nf.Expr, error) {
	if !p.cols.ifaces {
		return nil, nil
	}
	in, err := p.ifaceExpr(row.in, nf.FieldInIface, line)
	if err != nil {
		return nil, err
	}
	out, err := p.ifaceExpr(row.out, nf.FieldOutIface, line)
	return append(in, out...), err
}

// addrExpr reads an address column: "0.0.0.0/0", "!10.0.0.0/8",
// "192.168.1.1" (a host, no mask printed), "::/0", "anywhere" (without
// -n), or a host name (without -n; not resolved).
func (p *listParser) addrExpr(f field, fd nf.Field, op string, line string) ([]nf.Expr, error) {
	s, neg := strings.CutPrefix(f.s, "!")
	if s == "anywhere" {
		p.warnOnce("no-n", "listing without -n: names are read back where they can be, and kept as unknown matches where they cannot")
		s = "0.0.0.0/0"
		if p.family() == nf.IPv6 {
			s = "::/0"
		}
	}
	s = loopbackName(s, p.family())
	v, err := parseAddr(s, p.family())
	if err == nil {
		return addrAlternatives(fd, []nf.Value{v}, neg)[0], nil
	}
	if !isHostName(s) {
		return nil, p.errorf(f.col, line, "%v", err)
	}
	p.warn("%s %s: host names are not resolved; kept as a match whose result is unknown", op, f.s)
	text := op + " " + s
	if neg {
		text = "! " + text
	}
	return []nf.Expr{&nf.StatefulMatch{Key: "unknown:hostname", Text: text}}, nil
}

// loopbackName replaces the names every distribution's /etc/hosts and
// /etc/networks give the loopback address and network, which
// xtables_ipaddr_to_anyname prints without -n.
func loopbackName(s string, fam nf.IPFamily) string {
	host, mask, hasMask := strings.Cut(s, "/")
	switch {
	case fam == nf.IPv6 && (host == "localhost" || host == "ip6-localhost"):
		host = "::1"
	case fam == nf.IPv4 && host == "localhost":
		host = "127.0.0.1"
	case fam == nf.IPv4 && host == "loopback":
		host = "127.0.0.0"
	default:
		return s
	}
	if hasMask {
		return host + "/" + mask
	}
	return host
}

// isHostName reports whether s can be a DNS name iptables printed for an
// address (xtables_ipaddr_to_anyname), possibly with a /mask.
func isHostName(s string) bool {
	s, mask, hasMask := strings.Cut(s, "/")
	if s == "" || len(s) > 253 || hasMask && strings.Trim(mask, "0123456789.") != "" {
		return false
	}
	if strings.Trim(s, "0123456789.") == "" {
		return false
	}
	for _, c := range s {
		ok := c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

// ifaceExpr reads an in/out column: "*" (any), "eth0", "!eth0", "eth+".
// "+" alone matches every name, as iptables-save omits it.
func (p *listParser) ifaceExpr(f field, fd nf.Field, line string) ([]nf.Expr, error) {
	s, neg := strings.CutPrefix(f.s, "!")
	if s == "*" || s == "any" || s == "" || (s == "+" && !neg) {
		if neg {
			return []nf.Expr{nf.Const(false)}, nil
		}
		return nil, nil
	}
	if len(s) > 15 {
		return nil, p.errorf(f.col, line, "interface name %q longer than IFNAMSIZ-1 (15)", s)
	}
	return []nf.Expr{&nf.FieldMatch{Field: fd, Values: []nf.Value{nf.IfaceValue(s)}, Neg: neg, AbsentMatches: true}}, nil
}

// listProtoNames are /etc/protocols names `iptables -L` (without -n)
// prints that the model's ProtoByName does not list.
var listProtoNames = map[string]uint8{
	"ipencap": 4, "ipv4": 4, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "encap": 98, "ipcomp": 108, "l2tp": 115, "mobility-header": 135, "ipv6-mh": 135, "mh": 135,
}

// protoExpr reads the prot column: a number with -n ("6", "0"), a name
// without it ("tcp", "all"), "!" in front when negated.
func (p *listParser) protoExpr(f field, line string) ([]nf.Expr, error) {
	s, neg := strings.CutPrefix(f.s, "!")
	pr, err := parseProto(s)
	if err != nil {
		n, ok := listProtoNames[strings.ToLower(s)]
		if !ok {
			return nil, p.errorf(f.col, line, "%v", err)
		}
		pr = n
	}
	p.proto = pr
	if pr == 0 && !neg {
		return nil, nil
	}
	return []nf.Expr{&nf.FieldMatch{Field: nf.FieldProto, Values: []nf.Value{nf.IntValue(uint64(pr))}, Neg: neg}}, nil
}
