package iptables

import (
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// targetReader reads a target's print form at the cursor back into its
// save options. It may rename the target (CT prints NOTRACK for the
// NOTRACK alias). ok is false when the text is not that target's.
type targetReader func(t *textScan) (name string, opts []opt, ok bool)

// targetReaders and the word each target's print form starts with
// (extensions/libxt_*.c print functions).
var targetReaders = map[string]struct {
	read   targetReader
	marker string
}{
	"REJECT":     {rejectRd, "reject-with"},
	"LOG":        {logRd, "LOG"},
	"MARK":       {markRd("MARK"), "MARK"},
	"CONNMARK":   {connmarkRd, "CONNMARK"},
	"CT":         {ctRd, "CT"},
	"DNAT":       {natRd("--to-destination"), "to:"},
	"SNAT":       {natRd("--to-source"), "to:"},
	"MASQUERADE": {portsRd("masq", "ports:"), "masq"},
	"REDIRECT":   {portsRd("redir", "ports"), "redir"},
	"NFLOG":      {nflogRd, "nflog-"},
	"NFQUEUE":    {nfqueueRd, "NFQUEUE"},
	"TCPMSS":     {tcpmssRd, "TCPMSS"},
}

// trailer reads the text after the address columns: matches, "[goto]",
// then the target's own text.
func (p *listParser) trailer(row listRow) trailer {
	t := &textScan{s: row.rest}
	m := &matchParser{lp: p, t: t}
	m.parseMatches()
	exprs, comment := p.buildMods(m.mods, p.proto)
	tgt, label, unknown := p.target(row.target, t.s[t.i:], m.jump)
	if strings.TrimSpace(unknown) != "" {
		exprs = append(exprs, p.unknownText(unknown))
	}
	if tgt != nil {
		exprs = append(exprs, tgt)
	}
	return trailer{exprs: exprs, comment: comment, label: label}
}

// target builds the rule's target from the target column and the text
// left after the matches; it returns text it could not read.
func (p *listParser) target(name, rest string, jump bool) (nf.Expr, string, string) {
	if name == "" {
		return nil, "", rest
	}
	rd, ok := targetReaders[name]
	if !ok {
		return p.plainTarget(name, rest, jump)
	}
	unknown := ""
	newName, opts, ok := readTarget(rd.read, rest)
	if !ok {
		if idx := wordIndex(rest, rd.marker); idx > 0 {
			unknown, rest = rest[:idx], rest[idx:]
			newName, opts, ok = readTarget(rd.read, rest)
		}
	}
	if !ok {
		p.warn("%s target text %q not understood; the target's effect is unknown", name, strings.TrimSpace(rest))
		return &nf.UnknownTarget{Name: name, Text: strings.TrimSpace(name + " " + rest)}, name, unknown
	}
	return p.buildListTarget(newName, opts, jump), newName, unknown
}

func readTarget(rd targetReader, text string) (string, []opt, bool) {
	t := &textScan{s: text}
	name, opts, ok := rd(t)
	return name, opts, ok && t.atEnd()
}

// plainTarget handles targets without a reader: verdicts and chains,
// which print nothing, and targets that change nothing the model follows
// (TTL, DSCP, CLASSIFY, ...), whose print form starts with their name
// ("TTL set to 64") and whose options the model does not need.
func (p *listParser) plainTarget(name, rest string, jump bool) (nf.Expr, string, string) {
	if strings.TrimSpace(rest) == "" {
		return p.buildListTarget(name, nil, jump), name, rest
	}
	idx := wordIndex(rest, name)
	if !nopTarget(name) {
		if idx < 0 {
			return p.buildListTarget(name, nil, jump), name, rest
		}
		p.warn("target %s (%q) is not one this package knows; its effect is unknown", name, strings.TrimSpace(rest[idx:]))
		return &nf.UnknownTarget{Name: name, Text: strings.TrimSpace(rest[idx:])}, name, rest[:idx]
	}
	if idx < 0 {
		p.warn("%s target text %q kept as written (the target changes nothing the model follows)", name, strings.TrimSpace(rest))
		return &nf.NopStmt{Text: name + " " + strings.TrimSpace(rest)}, name, ""
	}
	return &nf.NopStmt{Text: strings.TrimSpace(rest[idx:])}, name, rest[:idx]
}

// nopTarget reports whether buildTarget makes target name a statement
// that changes nothing the model follows.
func nopTarget(name string) bool {
	return continueTargets[name] || name == "TTL"
}

func (p *listParser) buildListTarget(name string, opts []opt, jump bool) nf.Expr {
	e, err := buildTarget(name, opts, p.family(), jump, func(string) bool { return false })
	if err != nil {
		p.warn("target %s: %v; its effect is unknown", name, err)
		return &nf.UnknownTarget{Name: name, Text: targetText(name, opts)}
	}
	return e
}

// wordIndex finds word w at a word start in s, or -1.
func wordIndex(s, w string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || s[i-1] == ' ' {
			return i
		}
		off = i + 1
	}
}

// rejectRd reads " reject-with icmp-port-unreachable" (libipt_REJECT.c).
func rejectRd(t *textScan) (string, []opt, bool) {
	if !t.accept("reject-with") {
		return "", nil, false
	}
	return "REJECT", []opt{{name: "--reject-with", args: []string{t.word()}}}, true
}

// logFlags are the XT_LOG_* bits and their options (xt_LOG.h).
var logFlags = []struct {
	bit        uint64
	word, name string
}{
	{0x01, "tcp-sequence", "--log-tcp-sequence"}, {0x02, "tcp-options", "--log-tcp-options"},
	{0x04, "ip-options", "--log-ip-options"}, {0x08, "uid", "--log-uid"}, {0x20, "macdecode", "--log-macdecode"},
}

// logRd reads ` LOG flags 0 level 4 prefix "in: "` (-n) or ` LOG level
// warning tcp-sequence prefix "in: "` (libxt_LOG.c LOG_print).
func logRd(t *textScan) (string, []opt, bool) {
	if !t.accept("LOG") {
		return "", nil, false
	}
	var opts []opt
	if t.accept("flags") {
		n, err := parseUint(t.word(), 8)
		if err != nil || !t.accept("level") {
			return "", nil, false
		}
		opts = append(opts, opt{name: "--log-level", args: []string{t.word()}})
		for _, f := range logFlags {
			if n&f.bit != 0 {
				opts = append(opts, opt{name: f.name})
			}
		}
	} else if t.accept("level") {
		opts = append(opts, opt{name: "--log-level", args: []string{t.word()}})
		for _, f := range logFlags {
			if t.accept(f.word) {
				opts = append(opts, opt{name: f.name})
			}
		}
	}
	if t.accept("prefix") {
		rest := strings.TrimSpace(t.s[t.i:])
		if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
			return "", nil, false
		}
		// The prefix is printed between quotes, unescaped: it runs to the
		// last quote of the line.
		opts = append([]opt{{name: "--log-prefix", args: []string{rest[1 : len(rest)-1]}}}, opts...)
		t.i = len(t.s)
	}
	return "LOG", opts, true
}

// markRd reads " MARK and|or|xor|set 0x1" and " MARK xset 0x1/0xff"
// (libxt_MARK.c mark_tg_print; CONNMARK prints the same for --set-xmark)
// into --set-xmark value/mask.
func markRd(name string) targetReader {
	return func(t *textScan) (string, []opt, bool) {
		if !t.accept(name) {
			return "", nil, false
		}
		o, ok := xmark(t.word(), t.word())
		return name, []opt{o}, ok
	}
}

func xmark(op, arg string) (opt, bool) {
	v, m, hasMask, err := parseValueMask(arg)
	if err != nil || hasMask != (op == "xset") {
		return opt{}, false
	}
	switch op {
	case "and":
		v, m = 0, ^v
	case "or":
		m = v
	case "xor":
		m = 0
	case "set":
		m = 0xffffffff
	case "xset":
	default:
		return opt{}, false
	}
	return opt{name: "--set-xmark", args: []string{fmt.Sprintf("0x%x/0x%x", v, m)}}, true
}

// connmarkRd reads " CONNMARK save", " CONNMARK restore mask 0xff",
// " CONNMARK save nfmask 0x1 ctmask ~0x2" and the set forms
// (libxt_CONNMARK.c connmark_tg_print).
func connmarkRd(t *textScan) (string, []opt, bool) {
	if !t.accept("CONNMARK") {
		return "", nil, false
	}
	op := t.word()
	if op != "save" && op != "restore" {
		o, ok := xmark(op, t.word())
		return "CONNMARK", []opt{o}, ok
	}
	nfmask, ctmask := "0xffffffff", "0xffffffff"
	switch t.word() {
	case "":
	case "mask":
		nfmask = t.word()
		ctmask = nfmask
	case "nfmask", "ctmask":
		a, _, b := t.word(), t.word(), strings.TrimPrefix(t.word(), "~")
		nfmask, ctmask = a, b
		if op == "restore" {
			nfmask, ctmask = b, a
		}
	default:
		return "", nil, false
	}
	return "CONNMARK", []opt{{name: "--" + op + "-mark"}, {name: "--nfmask", args: []string{nfmask}}, {name: "--ctmask", args: []string{ctmask}}}, true
}

// ctRd reads " CT notrack helper ftp zone 1" and " NOTRACK"
// (libxt_CT.c ct_print_v1; NOTRACK is CT's alias).
func ctRd(t *textScan) (string, []opt, bool) {
	if t.accept("NOTRACK") {
		return "NOTRACK", nil, true
	}
	if !t.accept("CT") {
		return "", nil, false
	}
	var opts []opt
	for !t.atEnd() {
		w := t.word()
		switch w {
		case "notrack":
			opts = append(opts, opt{name: "--notrack"})
		case "helper", "timeout", "ctevents", "expevents", "zone", "zone-orig", "zone-reply":
			opts = append(opts, opt{name: "--" + w, args: []string{t.word()}})
		default:
			return "", nil, false
		}
	}
	return "CT", opts, true
}

// natFlags reads the flags __NAT_print ends with.
func natFlags(t *textScan) []opt {
	var opts []opt
	for _, f := range []string{"random", "random-fully", "persistent"} {
		if t.accept(f) {
			opts = append(opts, opt{name: "--" + f})
		}
	}
	return opts
}

// natRd reads " to:10.0.0.1-10.0.0.3:80-90 random persistent"
// (libxt_NAT.c __NAT_print for DNAT and SNAT).
func natRd(optName string) targetReader {
	return func(t *textScan) (string, []opt, bool) {
		w := t.word()
		r, ok := strings.CutPrefix(w, "to:")
		if !ok || r == "" {
			return "", nil, false
		}
		name := "DNAT"
		if optName == "--to-source" {
			name = "SNAT"
		}
		return name, append([]opt{{name: optName, args: []string{r}}}, natFlags(t)...), true
	}
}

// portsRd reads " masq ports: 1024-2000 random" and " redir ports 8080"
// (libxt_NAT.c, MASQUERADE and REDIRECT).
func portsRd(first, second string) targetReader {
	return func(t *textScan) (string, []opt, bool) {
		name := map[string]string{"masq": "MASQUERADE", "redir": "REDIRECT"}[first]
		var opts []opt
		if t.accept(first) {
			if !t.accept(second) {
				return "", nil, false
			}
			opts = append(opts, opt{name: "--to-ports", args: []string{t.word()}})
		}
		return name, append(opts, natFlags(t)...), true
	}
}

// nflogRd reads ` nflog-prefix "x" nflog-group 5`, the save options
// without "--" (libxt_NFLOG.c nflog_print).
func nflogRd(t *textScan) (string, []opt, bool) {
	var opts []opt
	for !t.atEnd() {
		w := t.word()
		switch w {
		case "nflog-prefix":
			s, ok := quotedWord(t)
			if !ok {
				return "", nil, false
			}
			opts = append(opts, opt{name: "--" + w, args: []string{s}})
		case "nflog-group", "nflog-size", "nflog-range", "nflog-threshold":
			opts = append(opts, opt{name: "--" + w, args: []string{t.word()}})
		default:
			return "", nil, false
		}
	}
	return "NFLOG", opts, true
}

// quotedWord reads a string as xtables_save_string prints it: in double
// quotes, with backslash before quotes and backslashes.
func quotedWord(t *textScan) (string, bool) {
	t.skipSpace()
	if t.i >= len(t.s) || t.s[t.i] != '"' {
		return t.word(), true
	}
	var b strings.Builder
	for i := t.i + 1; i < len(t.s); i++ {
		switch c := t.s[i]; {
		case c == '\\' && i+1 < len(t.s):
			i++
			b.WriteByte(t.s[i])
		case c == '"':
			t.i = i + 1
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// nfqueueRd reads " NFQUEUE num 3 bypass cpu-fanout" and " NFQUEUE
// balance 0:3" (libxt_NFQUEUE.c).
func nfqueueRd(t *textScan) (string, []opt, bool) {
	if !t.accept("NFQUEUE") {
		return "", nil, false
	}
	var opts []opt
	switch t.word() {
	case "num":
		opts = append(opts, opt{name: "--queue-num", args: []string{t.word()}})
	case "balance":
		opts = append(opts, opt{name: "--queue-balance", args: []string{t.word()}})
	default:
		return "", nil, false
	}
	if t.accept("bypass") {
		opts = append(opts, opt{name: "--queue-bypass"})
	}
	if t.accept("cpu-fanout") {
		opts = append(opts, opt{name: "--queue-cpu-fanout"})
	}
	return "NFQUEUE", opts, true
}

// tcpmssRd reads " TCPMSS clamp to PMTU" and " TCPMSS set 1400"
// (libxt_TCPMSS.c).
func tcpmssRd(t *textScan) (string, []opt, bool) {
	if !t.accept("TCPMSS") {
		return "", nil, false
	}
	if t.accept("set") {
		return "TCPMSS", []opt{{name: "--set-mss", args: []string{t.word()}}}, true
	}
	ok := t.accept("clamp") && t.accept("to") && t.accept("PMTU")
	return "TCPMSS", []opt{{name: "--clamp-mss-to-pmtu"}}, ok
}
