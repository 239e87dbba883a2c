package iptables

import (
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// The match text of a listing row is the concatenation of every match's
// print function output (extensions/libxt_*.c, "print" rather than "save"),
// then the target's. Each recognizer below reads one match's print form
// and turns it back into the options iptables-save would show, so that
// the expressions come from the same builders as for iptables-save input.

// listMod is one match read back: its module and save-form options, and
// the text it was read from.
type listMod struct {
	mod  string
	opts []opt
	text string
}

// trailer is what the text after the address columns held.
type trailer struct {
	exprs   []nf.Expr
	comment string
	label   string
}

// textScan is a cursor over the text after the address columns.
type textScan struct {
	s string
	i int
}

func (t *textScan) skipSpace() {
	for t.i < len(t.s) && (t.s[t.i] == ' ' || t.s[t.i] == '\t') {
		t.i++
	}
}

func (t *textScan) atEnd() bool {
	t.skipSpace()
	return t.i >= len(t.s)
}

// peek returns the next word without consuming it.
func (t *textScan) peek() string {
	save := t.i
	w := t.word()
	t.i = save
	return w
}

// peek2 returns the word after the next one.
func (t *textScan) peek2() string {
	save := t.i
	t.word()
	w := t.word()
	t.i = save
	return w
}

// word consumes the next blank-separated word.
func (t *textScan) word() string {
	t.skipSpace()
	start := t.i
	for t.i < len(t.s) && t.s[t.i] != ' ' && t.s[t.i] != '\t' {
		t.i++
	}
	return t.s[start:t.i]
}

// accept consumes the next word if it is w.
func (t *textScan) accept(w string) bool {
	if t.peek() == w {
		t.word()
		return true
	}
	return false
}

// matchParser reads the match part of a row.
type matchParser struct {
	lp   *listParser
	t    *textScan
	mods []listMod
	jump bool // [goto]
}

// recognizer reads one match's print form at the cursor, the word that
// starts it already consumed; neg says a lone "!" preceded it.
type recognizer func(m *matchParser, w string, neg bool) (listMod, bool)

// recognizers by the word that starts a match's print form.
var recognizers map[string]recognizer

func init() {
	recognizers = map[string]recognizer{
		"tcp": portsRec, "udp": portsRec, "sctp": portsRec, "dccp": portsRec, "udplite": portsRec,
		"multiport": multiportRec, "ADDRTYPE": addrtypeRec, "/*": commentRec,
		"mark": markRec, "MARK": markRec, "connmark": markRec, "CONNMARK": markRec,
		"statistic": statisticRec, "source": iprangeRec, "destination": iprangeRec,
		"length": lengthRec, "TTL": ttlRec, "HL": ttlRec, "PKTTYPE": pkttypeRec, "MAC": macRec,
		"owner": ownerRec, "incl.": ownerRec, "match-set": setRec, "PHYSDEV": physdevRec,
		"recent:": recentRec, "limit:": limitRec, "icmp": icmpRec, "icmptype": icmpRec,
		"ipv6-icmp": icmpRec, "ipv6-icmptype": icmpRec, "helper": helperRec, "nfacct-name": nfacctRec,
		"DSCP": dscpRec, "tos": tosRec, "quota:": quotaRec, "#conn": connlimitRec, "STRING": stringRec,
		"TIME": timeRec, "u32": u32Rec, "connbytes": connbytesRec, "cpu": cpuRec, "src-group": devgroupRec,
		"dst-group": devgroupRec, "ECN": ecnRec, "tcpmss": tcpmssRec, "socket": socketRec,
	}
	for _, w := range ctWords {
		recognizers[w] = conntrackRec
	}
}

// parseMatches reads matches until the text left is not one; it returns
// with the cursor at the target text.
func (m *matchParser) parseMatches() {
	for !m.t.atEnd() {
		start := m.t.i
		w := m.t.word()
		if w == "[goto]" {
			m.jump = true
			continue
		}
		neg := w == "!"
		if neg {
			w = m.t.word()
		}
		rec := recognizers[w]
		if rec == nil {
			m.t.i = start
			return
		}
		mod, ok := rec(m, w, neg)
		if !ok {
			m.t.i = start
			return
		}
		mod.text = strings.TrimSpace(m.t.s[start:m.t.i])
		m.mods = append(m.mods, mod)
	}
}

// negArg splits a leading "!" off a print-form value ("dpt:!22",
// "!LOCAL").
func negArg(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		return rest, true
	}
	return s, false
}

// portsRec reads " tcp spt:1 dpts:80:90 option=2 flags:0x17/0x02"
// (libxt_tcp.c tcp_print; udp, sctp and dccp print ports the same way).
func portsRec(m *matchParser, w string, neg bool) (listMod, bool) {
	mod := listMod{mod: w}
	for !neg {
		name, val, ok := strings.Cut(m.t.peek(), ":")
		if !ok && strings.HasPrefix(m.t.peek(), "option=") {
			name, val, ok = "option", strings.TrimPrefix(m.t.peek(), "option="), true
		}
		o, known := portOption(name, val)
		if !ok || !known || (w != "tcp" && (name == "flags" || name == "option")) {
			break
		}
		m.t.word()
		mod.opts = append(mod.opts, o)
	}
	return mod, !neg
}

func portOption(name, val string) (opt, bool) {
	val, neg := negArg(val)
	switch name {
	case "spt", "spts":
		return opt{name: "--sport", neg: neg, args: []string{numericPorts(val)}}, true
	case "dpt", "dpts":
		return opt{name: "--dport", neg: neg, args: []string{numericPorts(val)}}, true
	case "option":
		return opt{name: "--tcp-option", neg: neg, args: []string{val}}, true
	case "flags":
		mask, comp, ok := strings.Cut(val, "/")
		return opt{name: "--tcp-flags", neg: neg, args: []string{flagNames(mask), flagNames(comp)}}, ok
	}
	return opt{}, false
}

// flagNames turns the numeric flags -n prints ("0x17") into the names
// --tcp-flags takes; names pass through.
func flagNames(s string) string {
	if !strings.HasPrefix(s, "0x") {
		return s
	}
	n, err := parseUint(s, 8)
	if err != nil {
		return s
	}
	var names []string
	for _, f := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"} {
		if n&uint64(tcpFlagNames[f]) != 0 {
			names = append(names, f)
		}
	}
	if len(names) == 0 {
		return "NONE"
	}
	return strings.Join(names, ",")
}

// multiportRec reads " multiport dports  !80,443" (libxt_multiport.c).
func multiportRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	dir := map[string]string{"sports": "--sports", "dports": "--dports", "ports": "--ports"}[m.t.peek()]
	if dir == "" || neg {
		return listMod{}, false
	}
	m.t.word()
	inv := m.t.accept("!")
	list, n := negArg(m.t.word())
	if list == "" {
		return listMod{}, false
	}
	return listMod{mod: "multiport", opts: []opt{{name: dir, neg: inv || n, args: []string{numericPorts(list)}}}}, true
}

// ctWords are the conntrack options, printed as their save names without
// "--" (libxt_conntrack.c conntrack_dump with an empty prefix).
var ctWords = []string{"ctstate", "state", "ctproto", "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst",
	"ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport", "ctstatus", "ctexpire", "ctdir"}

// conntrackRec reads one conntrack option: "ctstate RELATED,ESTABLISHED",
// "! ctstate INVALID", "state NEW" (xt_state and the conntrack alias),
// "ctorigdst 10.0.0.1", "ctdir REPLY".
func conntrackRec(m *matchParser, w string, neg bool) (listMod, bool) {
	a := m.t.word()
	if a == "" {
		return listMod{}, false
	}
	if w == "state" {
		return listMod{mod: "state", opts: []opt{{name: "--state", neg: neg, args: []string{a}}}}, true
	}
	return listMod{mod: "conntrack", opts: []opt{{name: "--" + w, neg: neg, args: []string{a}}}}, true
}

// addrtypeRec reads " ADDRTYPE match src-type !LOCAL dst-type UNICAST
// limit-in" (libxt_addrtype.c; revision 0 glues "dst-type" to its value).
func addrtypeRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	mod := listMod{mod: "addrtype"}
	for {
		w := m.t.peek()
		switch {
		case w == "limit-in" || w == "limit-out":
			m.t.word()
			mod.opts = append(mod.opts, opt{name: "--limit-iface-" + strings.TrimPrefix(w, "limit-")})
		case strings.HasPrefix(w, "src-type") || strings.HasPrefix(w, "dst-type"):
			m.t.word()
			v := strings.TrimPrefix(w[len("src-type"):], " ")
			if v == "" {
				v = m.t.word()
			}
			v, n := negArg(v)
			mod.opts = append(mod.opts, opt{name: "--" + w[:len("src-type")], neg: n, args: []string{v}})
		default:
			return mod, len(mod.opts) > 0
		}
	}
}

// commentRec reads " /* text */" (libxt_comment.c). A comment may itself
// hold " */"; the text then runs to the last " */" unless another comment
// follows.
func commentRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg {
		return listMod{}, false
	}
	t := m.t
	body := t.s[t.i:]
	body = strings.TrimPrefix(body, " ")
	off := t.i + len(t.s[t.i:]) - len(body)
	end := commentEnd(body)
	if end < 0 {
		return listMod{}, false
	}
	text := body[:end]
	if strings.Contains(text, " */") {
		m.lp.warn("comment %q holds \" */\": where it ends is a guess", text)
	}
	t.i = off + end + len(" */")
	if end == 0 {
		t.i = off + len("*/")
	}
	return listMod{mod: "comment", opts: []opt{{name: "--comment", args: []string{text}}}}, true
}

// commentEnd finds where a comment's text ends in body (which starts
// right after "/* "), or -1: at a " */" followed by a blank or the end,
// the last such one unless another comment opens after it.
func commentEnd(body string) int {
	if strings.HasPrefix(body, "*/") {
		return 0
	}
	lastOpen := strings.LastIndex(body, "/* ")
	lastClose := strings.LastIndex(body, " */")
	for end := strings.Index(body, " */"); end >= 0; {
		after := end + 3
		boundary := after == len(body) || body[after] == ' '
		if boundary && (end == lastClose || lastOpen >= after) {
			return end
		}
		next := strings.Index(body[after:], " */")
		if next < 0 {
			break
		}
		end = after + next
	}
	return -1
}

// markRec reads " mark match ! 0x1/0xf" and " connmark match  0x1"
// (libxt_mark.c, libxt_connmark.c; revision 0 prints MARK/CONNMARK).
func markRec(m *matchParser, w string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	inv := m.t.accept("!")
	v, n := negArg(m.t.word())
	if v == "" {
		return listMod{}, false
	}
	return listMod{mod: strings.ToLower(w), opts: []opt{{name: "--mark", neg: inv || n, args: []string{v}}}}, true
}

// statisticRec reads " statistic mode random ! probability 0.5" and
// " statistic mode nth every 3 packet 1" (libxt_statistic.c print_match).
func statisticRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("mode") {
		return listMod{}, false
	}
	mode := m.t.word()
	inv := m.t.accept("!")
	mod := listMod{mod: "statistic", opts: []opt{{name: "--mode", args: []string{mode}}}}
	switch mode {
	case "random":
		if !m.t.accept("probability") {
			return listMod{}, false
		}
		mod.opts = append(mod.opts, opt{name: "--probability", neg: inv, args: []string{m.t.word()}})
	case "nth":
		if !m.t.accept("every") {
			return listMod{}, false
		}
		mod.opts = append(mod.opts, opt{name: "--every", neg: inv, args: []string{m.t.word()}})
		if m.t.accept("packet") {
			mod.opts = append(mod.opts, opt{name: "--packet", args: []string{m.t.word()}})
		}
	default:
		return listMod{}, false
	}
	return mod, true
}

// iprangeRec reads " source IP range ! 10.0.0.1-10.0.0.5" and
// " destination IP range ..." (libxt_iprange.c).
func iprangeRec(m *matchParser, w string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("IP") || !m.t.accept("range") {
		return listMod{}, false
	}
	inv := m.t.accept("!")
	name := "--src-range"
	if w == "destination" {
		name = "--dst-range"
	}
	return listMod{mod: "iprange", opts: []opt{{name: name, neg: inv, args: []string{m.t.word()}}}}, true
}

// lengthRec reads " length !0:100" (libxt_length.c).
func lengthRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	v, n := negArg(m.t.word())
	if neg || v == "" {
		return listMod{}, false
	}
	return listMod{mod: "length", opts: []opt{{name: "--length", neg: n, args: []string{v}}}}, true
}

// ttlRec reads " TTL match TTL == 1" (libipt_ttl.c) and " HL match HL < 5"
// (libip6t_hl.c).
func ttlRec(m *matchParser, w string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") || !m.t.accept(w) {
		return listMod{}, false
	}
	op, v := m.t.word(), m.t.word()
	suffix := map[string]string{"==": "-eq", "!=": "-eq", "<": "-lt", ">": "-gt"}[op]
	if suffix == "" || v == "" {
		return listMod{}, false
	}
	mod := strings.ToLower(w)
	return listMod{mod: mod, opts: []opt{{name: "--" + mod + suffix, neg: op == "!=", args: []string{v}}}}, true
}

// pkttypeRec reads " PKTTYPE = broadcast" and " PKTTYPE != host"
// (libxt_pkttype.c).
func pkttypeRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	op, v := m.t.word(), m.t.word()
	if neg || (op != "=" && op != "!=") || v == "" {
		return listMod{}, false
	}
	return listMod{mod: "pkttype", opts: []opt{{name: "--pkt-type", neg: op == "!=", args: []string{v}}}}, true
}

// macRec reads " MAC ! 00:11:22:33:44:55" (libxt_mac.c).
func macRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	inv := m.t.accept("!")
	v := m.t.word()
	if neg || strings.Count(v, ":") != 5 {
		return listMod{}, false
	}
	return listMod{mod: "mac", opts: []opt{{name: "--mac-source", neg: inv, args: []string{v}}}}, true
}

// ownerRec reads " owner UID match 0", " ! owner GID match 100-200",
// " owner socket exists" and " incl. suppl. groups" (libxt_owner.c).
func ownerRec(m *matchParser, w string, neg bool) (listMod, bool) {
	if w == "incl." {
		if !m.t.accept("suppl.") || !m.t.accept("groups") {
			return listMod{}, false
		}
		return listMod{mod: "owner", opts: []opt{{name: "--suppl-groups", neg: neg}}}, true
	}
	switch kind := m.t.word(); kind {
	case "UID", "GID":
		if !m.t.accept("match") {
			return listMod{}, false
		}
		name := "--" + strings.ToLower(kind) + "-owner"
		return listMod{mod: "owner", opts: []opt{{name: name, neg: neg, args: []string{m.ownerID(kind)}}}}, true
	case "socket":
		if !m.t.accept("exists") {
			return listMod{}, false
		}
		return listMod{mod: "owner", opts: []opt{{name: "--socket-exists", neg: neg}}}, true
	}
	return listMod{}, false
}

// ownerID reads a user or group: a number or range with -n; without it a
// name (getpwuid), of which only root (0) is known here.
func (m *matchParser) ownerID(kind string) string {
	w := m.t.word()
	if w == "root" {
		return "0"
	}
	if strings.Trim(w, "0123456789-") != "" {
		m.lp.warn("owner %s %q: names are not resolved; kept as a match whose result is unknown", kind, w)
	}
	return w
}

// setRec reads " ! match-set NAME src,dst return-nomatch" (libxt_set.c
// print_match and set_print_v4_matchinfo).
func setRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	name, dirs := m.t.word(), m.t.word()
	if name == "" || dirs == "" {
		return listMod{}, false
	}
	mod := listMod{mod: "set", opts: []opt{{name: "--match-set", neg: neg, args: []string{name, dirs}}}}
	for {
		switch {
		case m.t.accept("return-nomatch"):
			mod.opts = append(mod.opts, opt{name: "--return-nomatch"})
		case m.t.peek() == "!" && strings.HasPrefix(m.t.peek2(), "update-"):
			m.t.word()
			mod.opts = append(mod.opts, opt{name: "--" + m.t.word(), neg: true})
		default:
			return mod, true
		}
	}
}

// physdevRec reads " PHYSDEV match ! --physdev-is-bridged --physdev-in
// eth0", which prints the save options (libxt_physdev.c).
func physdevRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	mod := listMod{mod: "physdev"}
	for {
		inv := m.t.peek() == "!" && strings.HasPrefix(m.t.peek2(), "--physdev-")
		if inv {
			m.t.word()
		}
		w := m.t.peek()
		if !strings.HasPrefix(w, "--physdev-") {
			return mod, len(mod.opts) > 0
		}
		m.t.word()
		o := opt{name: w, neg: inv}
		if w == "--physdev-in" || w == "--physdev-out" {
			o.args = []string{m.t.word()}
		}
		mod.opts = append(mod.opts, o)
	}
}

// helperRec reads ` helper match ! "ftp"` (libxt_helper.c).
func helperRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	inv := m.t.accept("!")
	v := m.t.word()
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return listMod{}, false
	}
	return listMod{mod: "helper", opts: []opt{{name: "--helper", neg: inv, args: []string{v[1 : len(v)-1]}}}}, true
}

// nfacctRec reads " nfacct-name  NAME" (libxt_nfacct.c).
func nfacctRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	v := m.t.word()
	if neg || v == "" {
		return listMod{}, false
	}
	return listMod{mod: "nfacct", opts: []opt{{name: "--nfacct-name", args: []string{v}}}}, true
}

// dscpRec reads " DSCP match !0x0a" (libxt_dscp.c).
func dscpRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	v, n := negArg(m.t.word())
	if v == "" {
		return listMod{}, false
	}
	return listMod{mod: "dscp", opts: []opt{{name: "--dscp", neg: n, args: []string{v}}}}, true
}

// tosRec reads " tos match0x10/0xff" and " tos match!0x10/0x3f": the
// value is glued to "match" (libxt_tos.c tos_mt_print). Without -n a
// symbolic name may stand there, which is kept as unknown.
func tosRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	v, ok := strings.CutPrefix(m.t.word(), "match")
	if !ok || neg || v == "" {
		return listMod{}, false
	}
	v, n := negArg(v)
	return listMod{mod: "tos", opts: []opt{{name: "--tos", neg: n, args: []string{v}}}}, true
}

// buildMods turns the matches read back into expressions with the
// builders iptables-save input uses; a match whose values do not parse
// (a service or user name without -n, say) is kept as a match whose
// result is unknown, with a warning.
func (p *listParser) buildMods(mods []listMod, proto uint8) ([]nf.Expr, string) {
	var out []nf.Expr
	comment := ""
	for _, md := range mods {
		if e, ok := statefulExpr(md); ok {
			out = append(out, e)
			continue
		}
		b := &matchBuilder{fam: p.family(), proto: proto}
		exprs, err := b.build(md.mod, md.opts)
		if err != nil {
			p.warn("%q: %v; kept as a match whose result is unknown", md.text, err)
			exprs = []nf.Expr{&nf.StatefulMatch{Key: "unknown:" + md.mod, Text: md.text}}
		}
		for _, e := range exprs {
			if c, ok := e.(*nf.CommentMatch); ok && comment == "" {
				comment = c.Text
			}
		}
		out = append(out, exprs...)
	}
	return out, comment
}

// unknownText keeps text the parser could not read as a match whose
// result is unknown, and says so.
func (p *listParser) unknownText(text string) nf.Expr {
	text = strings.TrimSpace(text)
	p.warn("%q not understood (the listing's print form has no delimiters); kept as a match whose result is unknown", text)
	return &nf.StatefulMatch{Key: "unknown:listing", Text: text}
}
