package iptables

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// ParseList reads `iptables -L -n [-v] [-x] [--line-numbers]` and
// `ip6tables -L ...` output: one table, several tables concatenated (as
// `for t in ...; do iptables -t $t -L -n -v; done` prints them), or a single
// chain (`iptables -L CHAIN`). It does not validate: call
// netfilter.Validate.
//
// The listing is iptables' "print" form (print_header, print_rule_details,
// print_ifaces, print_ipv4_addresses and every extension's print function
// in iptables/xshared.c and extensions/libxt_*.c), which drops things the
// save form keeps. What cannot be recovered is reported in
// Ruleset.Warnings, never dropped silently:
//
//   - the table name: `iptables -L` does not print it; it is inferred from
//     the built-in chains a table lists (filter and security have the same
//     ones; a single-chain listing names none), unless Options.Table says;
//   - the backend (legacy or iptables-nft), unless Options.Backend says;
//   - without -v: the -i/-o interfaces and all counters;
//   - without -x: counters are rounded to K/M/G/T (xtables_print_num);
//   - without -n: host names, service and user names that cannot be mapped
//     back;
//   - match and target text this package does not know (the print form has
//     no delimiters, so unknown text cannot be split into its matches).
//
// A jump to a chain the listing does not show (a single-chain listing, or
// a target this package does not know that prints nothing) becomes an
// UnknownTarget, with a warning, so the simulator forks there. The family
// comes from Options.Family or the addresses; goto rules are recovered
// (both backends print "[goto]" before the matches, IPT_F_GOTO). Errors
// are *netfilter.ParseError.
func ParseList(data []byte, o Options) (*nf.Ruleset, error) {
	p := &listParser{o: o, rs: &nf.Ruleset{}, fam: o.Family, scanFam: scanFamily(data)}
	text := string(data)
	for len(text) > 0 {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		p.line++
		if err := p.parseLine(strings.TrimRight(line, "\r")); err != nil {
			return nil, err
		}
	}
	p.finishTable()
	sort.SliceStable(p.rs.Warnings, func(i, j int) bool { return p.rs.Warnings[i].Pos.Line < p.rs.Warnings[j].Pos.Line })
	return p.rs, nil
}

// listColumns says which columns the listing's column header announced.
type listColumns struct {
	num, counters, ifaces, opt bool
	seen                       bool
}

// listTable collects the chains of one table of a listing; the table is
// named once all its chains are known.
type listTable struct {
	chains   []*nf.Chain
	byName   map[string]*nf.Chain
	policies map[string]nf.VerdictKind
	start    int
	sawUser  bool
	// sawBuiltin and lastHook: the last built-in chain listed.
	sawBuiltin bool
	lastHook   nf.Hook
}

// listParser holds the state of one ParseList call.
type listParser struct {
	o     Options
	rs    *nf.Ruleset
	line  int
	fam   nf.IPFamily
	seq   int
	cur   *listTable
	proto uint8
	// scanFam is the family of the first address in the input, for tables
	// that list no address themselves.
	scanFam nf.IPFamily
	chain   *nf.Chain
	cols    listColumns
	// Once-per-input warnings already given.
	warned map[string]bool
}

func (p *listParser) errorf(col int, text, format string, args ...any) error {
	return nf.Errorf(p.o.File, p.line, col, text, format, args...)
}

// warn records a warning at the current line.
func (p *listParser) warn(format string, args ...any) {
	p.rs.Warnings = append(p.rs.Warnings, nf.Warning{Pos: p.pos(), Message: fmt.Sprintf(format, args...)})
}

// warnOnce records a warning the first time key comes up.
func (p *listParser) warnOnce(key, format string, args ...any) {
	p.warnAt(p.line, key, format, args...)
}

func (p *listParser) pos() nf.Pos { return nf.Pos{File: p.o.File, Line: p.line} }

func (p *listParser) parseLine(line string) error {
	if strings.IndexByte(line, 0) >= 0 || !validText(line) {
		return p.errorf(badByteCol(line), line, "binary data in listing")
	}
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "", strings.HasPrefix(trimmed, "#"):
		// Blank separators, and iptables-nft's "# Warning: iptables-legacy
		// tables present" notice.
		return nil
	case strings.HasPrefix(trimmed, "Chain "):
		return p.chainHeader(line)
	}
	if p.chain == nil {
		return p.errorf(1, line, "expected a \"Chain NAME (...)\" header")
	}
	f := fields(line)
	if isColumnHeader(f) {
		return p.columnHeader(f, line)
	}
	if !p.cols.seen {
		return p.errorf(f[0].col, line, "rule before the column header (\"target prot opt source destination\")")
	}
	return p.rule(line, f)
}

// field is one blank-separated word of a line and its 1-based byte column.
type field struct {
	s   string
	col int
}

func fields(line string) []field {
	var out []field
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		if i > start {
			out = append(out, field{line[start:i], start + 1})
		}
	}
	return out
}

func isColumnHeader(f []field) bool {
	has := map[string]bool{}
	for _, x := range f {
		has[x.s] = true
	}
	return has["prot"] && has["source"] && has["destination"]
}

// columnHeader reads "num pkts bytes target prot opt in out source
// destination", whose columns depend on --line-numbers and -v
// (print_header).
func (p *listParser) columnHeader(f []field, line string) error {
	c := listColumns{seen: true}
	for _, x := range f {
		switch x.s {
		case "num":
			c.num = true
		case "pkts", "bytes":
			c.counters = true
		case "in", "out":
			c.ifaces = true
		case "opt":
			c.opt = true
		case "target", "prot", "source", "destination":
		default:
			return p.errorf(x.col, line, "unknown column %q", x.s)
		}
	}
	p.cols = c
	if !c.ifaces {
		p.warnOnce("no-v", "listing without -v: interface matches (-i/-o) and counters are not shown; rules are read as if they had none")
	}
	return nil
}

// chainHeader reads "Chain NAME (policy ACCEPT 1 packets, 2 bytes)",
// "Chain NAME (policy DROP)" or "Chain NAME (3 references)".
func (p *listParser) chainHeader(line string) error {
	rest := strings.TrimSpace(strings.TrimSpace(line)[len("Chain "):])
	name, paren, ok := strings.Cut(rest, " ")
	paren = strings.TrimSpace(paren)
	if !ok || name == "" || !strings.HasPrefix(paren, "(") || !strings.HasSuffix(paren, ")") {
		return p.errorf(1, line, "chain header must be \"Chain NAME (policy P ...)\" or \"Chain NAME (N references)\"")
	}
	inner := paren[1 : len(paren)-1]
	col := strings.Index(line, paren) + 2
	if strings.HasPrefix(inner, "policy ") {
		return p.builtinChain(name, inner, col, line)
	}
	if !strings.HasSuffix(inner, " references") && inner != "ERROR obtaining refs" {
		return p.errorf(col, line, "expected \"policy ...\" or \"N references\", got %q", inner)
	}
	if p.cur != nil && p.cur.byName[name] != nil {
		// A chain listed again belongs to the next table (a listing of
		// the same chain name in two tables).
		p.finishTable()
	}
	p.startChain(name)
	p.cur.sawUser = true
	return nil
}

func (p *listParser) builtinChain(name, inner string, col int, line string) error {
	f := strings.Fields(inner)
	if len(f) < 2 {
		return p.errorf(col, line, "policy without a verdict")
	}
	v, err := policyVerdict(f[1])
	if err != nil {
		return p.errorf(col, line, "%v", err)
	}
	hook, ok := nf.HookByName(name)
	if !ok || hook == nf.HookIngress || name != hook.String() {
		return p.errorf(1, line, "chain %s has a policy but is not a built-in chain", name)
	}
	var ctr nf.Counters
	if len(f) > 2 {
		if ctr, err = p.policyCounters(f[2:]); err != nil {
			return p.errorf(col, line, "%v", err)
		}
	}
	if p.cur != nil && (p.cur.sawUser || p.cur.sawBuiltin && hook <= p.cur.lastHook) {
		// A table lists its built-in chains first, in hook order
		// (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING): a built-in
		// chain out of that order starts the next table.
		p.finishTable()
	}
	p.startChain(name)
	p.cur.sawBuiltin, p.cur.lastHook = true, hook
	p.chain.SetCounters(ctr)
	p.cur.policies[name] = v
	return nil
}

// policyCounters reads "1 packets, 2 bytes" (print_header).
func (p *listParser) policyCounters(f []string) (nf.Counters, error) {
	if len(f) != 4 || f[1] != "packets," || f[3] != "bytes" {
		return nf.Counters{}, fmt.Errorf("policy counters must read \"N packets, N bytes\"")
	}
	pk, err1 := p.count(f[0])
	by, err2 := p.count(f[2])
	if err1 != nil || err2 != nil {
		return nf.Counters{}, fmt.Errorf("invalid policy counters %q %q", f[0], f[2])
	}
	return nf.Counters{Packets: pk, Bytes: by, Known: true}, nil
}

func (p *listParser) startChain(name string) {
	if p.cur == nil {
		p.cur = &listTable{byName: map[string]*nf.Chain{}, policies: map[string]nf.VerdictKind{}, start: p.line}
	}
	c := &nf.Chain{Name: name}
	c.SetPos(nf.Pos{Line: p.line}) // the file is the table's
	p.cur.byName[name] = c
	p.cur.chains = append(p.cur.chains, c)
	p.chain, p.cols = c, listColumns{}
}

// count reads a counter as xtables_print_num prints it: a plain number,
// or with -v but without -x a number rounded to K, M, G or T (powers of
// 1000, rounded half up).
func (p *listParser) count(s string) (uint64, error) {
	n, rounded, err := ParseListCount(s)
	if err == nil && rounded {
		p.warnOnce("rounded", "counters rounded to K/M/G/T (listing without -x); exact values are lost")
	}
	return n, err
}

// ParseListCount reads one counter of an `iptables -L -v` listing: decimal,
// or rounded with a K, M, G or T suffix (xtables_print_num). It reports
// whether the value was rounded. "0K" is what iptables prints for values
// within 500 of 2^64 (its rounding wraps around), read as the largest
// counter.
func ParseListCount(s string) (n uint64, rounded bool, err error) {
	digits, mult := splitUnit(s)
	if digits == "" || digits[0] == '+' {
		return 0, false, fmt.Errorf("invalid counter %q", s)
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("invalid counter %q", s)
	}
	switch {
	case mult == 1:
		return v, false, nil
	case v == 0:
		return ^uint64(0), true, nil
	case v > ^uint64(0)/mult:
		return 0, false, fmt.Errorf("counter %q out of range", s)
	}
	return v * mult, true, nil
}

// splitUnit splits a K, M, G or T suffix off a counter.
func splitUnit(s string) (string, uint64) {
	if s == "" {
		return s, 1
	}
	switch s[len(s)-1] {
	case 'K':
		return s[:len(s)-1], 1e3
	case 'M':
		return s[:len(s)-1], 1e6
	case 'G':
		return s[:len(s)-1], 1e9
	case 'T':
		return s[:len(s)-1], 1e12
	}
	return s, 1
}

// finishTable names the table whose chains were collected and adds it to
// the ruleset.
func (p *listParser) finishTable() {
	lt := p.cur
	p.cur, p.chain = nil, nil
	if lt == nil {
		return
	}
	def := p.tableFor(lt)
	fam := nf.FamilyIPv4
	if p.family() == nf.IPv6 {
		fam = nf.FamilyIPv6
	}
	t := nf.NewTable(fam, def.Name, p.backend(lt))
	t.Pos = nf.Pos{File: p.o.File, Line: lt.start}
	p.seq++
	t.Seq = p.seq
	for _, c := range lt.chains {
		if pol, ok := lt.policies[c.Name]; ok {
			c.Base = baseChain(def, c.Name, pol, t.Backend)
		}
		t.AddChain(c)
	}
	p.unlistedTargets(t)
	p.rs.Tables = append(p.rs.Tables, t)
	p.fam = p.o.Family
}

// unlistedTargets turns jumps to chains the listing does not show (a
// listing of one chain, or a target this package does not know and whose
// print form is empty) into unknown targets, so that the answer forks
// there instead of the ruleset failing validation.
func (p *listParser) unlistedTargets(t *nf.Table) {
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if len(r.Exprs) == 0 {
				continue
			}
			last := len(r.Exprs) - 1
			ve, ok := r.Exprs[last].(*nf.VerdictExpr)
			if !ok || (ve.V.Kind != nf.VerdictJump && ve.V.Kind != nf.VerdictGoto) || t.Chain(ve.V.Chain) != nil {
				continue
			}
			p.rs.Warnings = append(p.rs.Warnings, nf.Warning{Pos: r.Pos(), Message: fmt.Sprintf(
				"%s to %s, which the listing does not show (a chain not listed, or a target this package does not know): its effect is unknown",
				strings.ToLower(ve.V.Kind.String()), ve.V.Chain)})
			r.Exprs[last] = &nf.UnknownTarget{Name: ve.V.Chain, Text: ve.V.String()}
		}
	}
}

func baseChain(def nf.IptablesTable, name string, pol nf.VerdictKind, be nf.Backend) *nf.BaseChain {
	hook, _ := nf.HookByName(name)
	b := &nf.BaseChain{Type: def.Type, Hook: hook, Priority: def.PriorityFor(hook, be), Policy: pol}
	if def.Name == "mangle" && hook == nf.HookOutput {
		b.Type = nf.ChainTypeRoute
	}
	return b
}

func (p *listParser) family() nf.IPFamily {
	switch {
	case p.fam != 0:
		return p.fam
	case p.scanFam != 0:
		return p.scanFam
	}
	return nf.IPv4
}

// scanFamily returns the family of the first word of a rule row that is
// an address or prefix, or 0.
func scanFamily(data []byte) nf.IPFamily {
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Chain ") {
			continue
		}
		for _, w := range strings.Fields(line) {
			w = strings.TrimPrefix(w, "!")
			a, err := netip.ParseAddr(w)
			if pf, err2 := netip.ParsePrefix(w); err2 == nil {
				a, err = pf.Addr(), nil
			}
			if err != nil {
				continue
			}
			if a.Is4() {
				return nf.IPv4
			}
			return nf.IPv6
		}
	}
	return 0
}

func (p *listParser) backend(lt *listTable) nf.Backend {
	if p.o.Backend != "" {
		return p.o.Backend
	}
	p.warnAt(lt.start, "backend", "the listing does not say whether iptables-legacy or iptables-nft holds its tables")
	return nf.BackendUnknown
}

// warnAt records a warning at line n, once per key ("" for always).
func (p *listParser) warnAt(n int, key, format string, args ...any) {
	if key != "" {
		if p.warned == nil {
			p.warned = map[string]bool{}
		}
		if p.warned[key] {
			return
		}
		p.warned[key] = true
	}
	p.rs.Warnings = append(p.rs.Warnings, nf.Warning{Pos: nf.Pos{File: p.o.File, Line: n}, Message: fmt.Sprintf(format, args...)})
}

// tableFor names a table from the built-in chains it lists (each iptables
// table registers a fixed set of hooks, net/ipv4/netfilter/iptable_*.c),
// or from Options.Table.
func (p *listParser) tableFor(lt *listTable) nf.IptablesTable {
	if def, ok := nf.LookupIptablesTable(p.o.Table); ok {
		return def
	} else if p.o.Table != "" {
		p.warnAt(lt.start, "table-option", "unknown table %q in the options (iptables has raw, mangle, nat, filter, security); the table is inferred", p.o.Table)
	}
	var hooks []nf.Hook
	var names []string
	for _, c := range lt.chains {
		if _, ok := lt.policies[c.Name]; ok {
			h, _ := nf.HookByName(c.Name)
			hooks, names = append(hooks, h), append(names, c.Name)
		}
	}
	var exact, fits []nf.IptablesTable
	for _, name := range []string{"filter", "nat", "mangle", "raw", "security"} {
		def, _ := nf.LookupIptablesTable(name)
		if hasAllHooks(def, hooks) {
			fits = append(fits, def)
			if len(def.Hooks) == len(hooks) {
				exact = append(exact, def)
			}
		}
	}
	if len(exact) == 1 {
		return exact[0]
	}
	if len(exact) > 1 {
		fits = exact
	}
	return p.guessTable(lt, fits, names)
}

func (p *listParser) guessTable(lt *listTable, fits []nf.IptablesTable, names []string) nf.IptablesTable {
	if len(fits) == 0 {
		def, _ := nf.LookupIptablesTable("mangle")
		p.warnAt(lt.start, "", "built-in chains %s fit no iptables table; read as mangle", strings.Join(names, ", "))
		return def
	}
	var alts []string
	for _, d := range fits {
		alts = append(alts, d.Name)
	}
	what := "built-in chains " + strings.Join(names, ", ")
	if len(names) == 0 {
		what = "no built-in chain"
	}
	p.warnAt(lt.start, "", "the listing does not name its table and %s fit %s; read as %s (set the table to override)",
		what, strings.Join(alts, ", "), fits[0].Name)
	return fits[0]
}

func hasAllHooks(def nf.IptablesTable, hooks []nf.Hook) bool {
	for _, h := range hooks {
		if !def.HasHook(h) {
			return false
		}
	}
	return true
}
