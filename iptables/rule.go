package iptables

import (
	"errors"
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// colError is an error at a column of the line being parsed.
type colError struct {
	col int
	err error
}

func (e *colError) Error() string { return e.err.Error() }

func errAt(col int, format string, args ...any) error {
	return &colError{col: col, err: fmt.Errorf(format, args...)}
}

// command is one parsed line of rule syntax: -A/-I/-N/-P/-X/-F/-Z.
type command struct {
	op    string // "-A", "-I", "-N", "-P", "-X", "-F", "-Z", "-D"
	chain string
	pos   int // -I position
	// For -P: the policy.
	policy string
	// For rules: the expressions, target name, comment, counters, and
	// extra rules produced by comma-separated -s/-d lists.
	rules    [][]nf.Expr
	target   string
	comment  string
	counters nf.Counters
	warnings []string
}

// ruleParser parses the arguments after "-A CHAIN".
type ruleParser struct {
	fam  nf.IPFamily
	toks []token
	// line is the source line the token columns point into; cache shares
	// expressions between rules (nil: no sharing).
	line      string
	cache     *exprCache
	slab      *exprSlab
	i         int
	userChain func(string) bool

	src, dst []nf.Value
	// srcTok and dstTok index the -s/-d argument tokens; srcKey and dstKey
	// are the options' source text ("! -s 10.0.0.0/8") when they hold one
	// address, under which the match is shared.
	srcTok, dstTok int
	srcKey, dstKey string
	// srcBuf and dstBuf are reused for the values of src and dst.
	srcBuf, dstBuf []nf.Value
	// tOpts and tArgs are reused for the target's options.
	tOpts      []opt
	tArgs      []string
	srcNeg     bool
	dstNeg     bool
	header     []nf.Expr
	matches    []nf.Expr
	target     nf.Expr
	targetName string
	proto      uint8
	protoNeg   bool
	comment    string
	counters   nf.Counters
	curMod     string
	curModCol  int
	// curModTok and curModEnd delimit the current module's tokens ("-m"
	// to its last argument); curModTok is -1 for an implicit module,
	// whose meaning depends on -p and is never shared.
	curModTok, curModEnd int
	curOpts              []opt
	// argBuf holds the option arguments of the rule being parsed.
	argBuf      []string
	sawImplicit bool
}

func (p *ruleParser) next() (token, bool) {
	if p.i >= len(p.toks) {
		return token{}, false
	}
	t := p.toks[p.i]
	p.i++
	return t, true
}

func (p *ruleParser) arg(opt token) (string, error) {
	t, ok := p.next()
	if !ok {
		return "", errAt(opt.col, "option %s needs an argument", opt.s)
	}
	return t.s, nil
}

// parse reads all options of a rule.
func (p *ruleParser) parse() error {
	for p.i < len(p.toks) {
		t, _ := p.next()
		neg := false
		if t.s == "!" {
			neg = true
			var ok bool
			if t, ok = p.next(); !ok {
				return errAt(t.col, "\"!\" at end of rule")
			}
		}
		if err := p.option(t, neg); err != nil {
			var ce *colError
			if !errors.As(err, &ce) {
				err = &colError{col: t.col, err: err}
			}
			return err
		}
	}
	return p.flushModule()
}

func (p *ruleParser) option(t token, neg bool) error {
	switch t.s {
	case "-p", "--protocol", "--proto":
		return p.protoOpt(t, neg)
	case "-s", "--source", "--src", "-d", "--destination", "--dst":
		return p.addrOpt(t, neg)
	case "-i", "--in-interface", "-o", "--out-interface":
		return p.ifaceOpt(t, neg)
	case "-f", "--fragment":
		// Simulated packets are never non-first fragments.
		p.header = append(p.header, nf.Const(neg))
		return nil
	case "-m", "--match":
		if neg {
			return fmt.Errorf("\"!\" cannot precede -m")
		}
		if err := p.flushModule(); err != nil {
			return err
		}
		a, err := p.arg(t)
		p.curMod, p.curModCol, p.curModTok, p.curModEnd = a, t.col, p.i-2, p.i
		return err
	case "-j", "--jump", "-g", "--goto":
		return p.targetOpt(t)
	case "-c", "--set-counters":
		return p.countersOpt(t)
	}
	if !strings.HasPrefix(t.s, "--") {
		return fmt.Errorf("unexpected argument %q", t.s)
	}
	return p.moduleOpt(t, neg)
}

func (p *ruleParser) protoOpt(t token, neg bool) error {
	a, err := p.arg(t)
	if err != nil {
		return err
	}
	pr, err := parseProto(a)
	if err != nil {
		return err
	}
	p.proto, p.protoNeg = pr, neg
	if pr != 0 || neg {
		p.header = append(p.header, p.shared(t, func() nf.Expr {
			return &nf.FieldMatch{Field: nf.FieldProto, Values: []nf.Value{nf.IntValue(uint64(pr))}, Neg: neg}
		}))
	}
	return nil
}

// shared returns the expression for the option just read (its source text
// from the "!" or option token to its argument), built once per parse.
func (p *ruleParser) shared(opt token, build func() nf.Expr) nf.Expr {
	from := p.i - 2
	if from > 0 && p.toks[from-1].s == "!" {
		from--
	}
	key, ok := p.span(from, p.i)
	if !ok {
		return build()
	}
	if e, hit := p.cache.protos[key]; hit {
		return e
	}
	e := build()
	p.cache.protos[key] = e
	return e
}

func (p *ruleParser) addrOpt(t token, neg bool) error {
	a, err := p.arg(t)
	if err != nil {
		return err
	}
	isSrc := t.s == "-s" || t.s == "--source" || t.s == "--src"
	vals := p.dstBuf[:0]
	if isSrc {
		vals = p.srcBuf[:0]
	}
	for part, rest, more := a, "", true; more; part = rest {
		part, rest, more = strings.Cut(part, ",")
		v, err := parseAddr(part, p.fam)
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	key := ""
	if len(vals) == 1 && !vals[0].IsSingle() {
		// Networks repeat ("! -s 10.244.0.0/16" in every Service chain);
		// host addresses are mostly distinct.
		from := p.i - 2
		if from > 0 && p.toks[from-1].s == "!" {
			from--
		}
		key, _ = p.span(from, p.i)
	}
	if isSrc {
		p.src, p.srcNeg, p.srcTok, p.srcKey, p.srcBuf = vals, neg, p.i-1, key, vals
	} else {
		p.dst, p.dstNeg, p.dstTok, p.dstKey, p.dstBuf = vals, neg, p.i-1, key, vals
	}
	return nil
}

func (p *ruleParser) ifaceOpt(t token, neg bool) error {
	a, err := p.arg(t)
	if err != nil {
		return err
	}
	if len(a) > 15 {
		return fmt.Errorf("interface name %q longer than IFNAMSIZ-1 (15)", a)
	}
	f := nf.FieldInIface
	if t.s == "-o" || t.s == "--out-interface" {
		f = nf.FieldOutIface
	}
	p.header = append(p.header, p.shared(t, func() nf.Expr {
		return &nf.FieldMatch{Field: f, Values: []nf.Value{nf.IfaceValue(a)}, Neg: neg, AbsentMatches: true}
	}))
	return nil
}

func (p *ruleParser) countersOpt(t token) error {
	a, err := p.arg(t)
	if err != nil {
		return err
	}
	b, err := p.arg(t)
	if err != nil {
		return err
	}
	pk, err1 := parseUint(a, 64)
	by, err2 := parseUint(b, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("invalid counters %q %q", a, b)
	}
	p.counters = nf.Counters{Packets: pk, Bytes: by, Known: true}
	return nil
}

// moduleOpt attaches an option to the current -m module, or to the
// protocol's implicit module (-p tcp --dport 80 loads tcp).
func (p *ruleParser) moduleOpt(t token, neg bool) error {
	mod := p.curMod
	if mod == "comment" && t.s == "--comment" {
		// Every kube-proxy rule has one: skip the option tables.
		return p.moduleArgs(t, neg, 1)
	}
	if mod == "" || (knownModules[mod] != nil && !moduleKnows(mod, t.s)) {
		implicit := nf.ProtoName(p.proto)
		if implicit == "icmpv6" {
			implicit = "icmp6"
		}
		if !moduleKnows(implicit, t.s) {
			if mod == "" {
				return fmt.Errorf("unknown option %s", t.s)
			}
			return fmt.Errorf("unknown option %s for -m %s", t.s, mod)
		}
		if err := p.flushModule(); err != nil {
			return err
		}
		p.curMod, p.curModCol, p.curModTok = implicit, t.col, -1
		mod = implicit
	}
	n := nargs(t.s, knownModules[mod] != nil)
	if t.s == "--match-set" || (mod == "set" && t.s == "--set") {
		n = 2
	}
	return p.moduleArgs(t, neg, n)
}

// moduleArgs reads the n arguments of module option t (n < 0: up to the
// next option).
func (p *ruleParser) moduleArgs(t token, neg bool, n int) error {
	o := opt{name: t.s, neg: neg, col: t.col}
	for k := 0; n < 0 && p.i < len(p.toks) && !isOptionStart(p.toks[p.i].s) || k < n; k++ {
		a, err := p.arg(t)
		if err != nil {
			return err
		}
		if a == "!" && k == 0 && n > 0 {
			// Old syntax: --dport ! 80.
			o.neg = !o.neg
			k--
			continue
		}
		p.argBuf = append(p.argBuf, a)
		o.args = p.argBuf[len(p.argBuf)-len(o.args)-1 : len(p.argBuf) : len(p.argBuf)]
	}
	p.curOpts = append(p.curOpts, o)
	p.curModEnd = p.i
	return nil
}

func (p *ruleParser) flushModule() error {
	if p.curMod == "" {
		return nil
	}
	if p.curMod == "comment" {
		// Comments repeat only from one rule to the next (kube-proxy
		// gives a Service's rules one comment): no cache, no slice.
		for _, o := range p.curOpts {
			c := p.slab.comment(strings.Join(o.args, " "))
			if p.comment == "" {
				p.comment = c.Text
			}
			p.matches = append(p.matches, c)
		}
		p.curMod, p.curOpts = "", p.curOpts[:0]
		return nil
	}
	key, cacheable := p.span(p.curModTok, p.curModEnd)
	// Comments are nearly all distinct: hashing them costs more than it
	// saves. Short option texts are the ones that repeat.
	cacheable = cacheable && p.curMod != "comment" && len(key) <= 64
	exprs, hit := p.cache.mod(key, cacheable)
	if !hit {
		b := &matchBuilder{fam: p.fam, proto: p.proto}
		var err error
		if exprs, err = b.build(p.curMod, p.curOpts); err != nil {
			return &colError{col: p.curModCol, err: fmt.Errorf("-m %s: %w", p.curMod, err)}
		}
		p.cache.putMod(key, cacheable, exprs)
	}
	for _, e := range exprs {
		if c, ok := e.(*nf.CommentMatch); ok && p.comment == "" {
			p.comment = c.Text
		}
	}
	p.matches = append(p.matches, exprs...)
	p.curMod, p.curOpts = "", p.curOpts[:0]
	return nil
}

func (p *ruleParser) targetOpt(t token) error {
	if p.target != nil {
		return fmt.Errorf("more than one target")
	}
	if err := p.flushModule(); err != nil {
		return err
	}
	start := p.i - 1
	name, err := p.arg(t)
	if err != nil {
		return err
	}
	// The options and their arguments live in the parser's reused
	// buffers: targets keep none of these slices.
	opts, args := p.tOpts[:0], p.tArgs[:0]
	for p.i < len(p.toks) && strings.HasPrefix(p.toks[p.i].s, "--") && !isBaseLong(p.toks[p.i].s) {
		o := opt{name: p.toks[p.i].s, col: p.toks[p.i].col}
		p.i++
		n := nargs(o.name, true)
		if o.name == "--log-prefix" || o.name == "--nflog-prefix" || o.name == "--comment" {
			n = 1
		}
		first := len(args)
		for k := 0; (n < 0 && p.i < len(p.toks) && !isOptionStart(p.toks[p.i].s)) || k < n; k++ {
			if p.i >= len(p.toks) {
				return errAt(o.col, "option %s needs an argument", o.name)
			}
			args = append(args, p.toks[p.i].s)
			o.args = args[first:len(args):len(args)]
			p.i++
		}
		opts = append(opts, o)
	}
	p.tOpts, p.tArgs = opts, args
	isGoto := t.s == "-g" || t.s == "--goto"
	key, cacheable := p.span(start, p.i)
	// Jumps to per-Service chains and DNATs to endpoints are distinct;
	// ACCEPT, RETURN, KUBE-MARK-MASQ and the like repeat.
	cacheable = cacheable && len(key) <= 24
	if e, hit := p.cache.target(key, cacheable); hit {
		p.target, p.targetName = e, name
		return nil
	}
	src := ""
	if span, ok := p.span(start+1, p.i); ok {
		src = span // "NAME --opt ...", as written
	}
	e, err := buildTargetText(name, opts, p.fam, isGoto, p.userChain, src, p.slab)
	if err != nil {
		return fmt.Errorf("-j %s: %w", name, err)
	}
	p.cache.putTarget(key, cacheable, e)
	p.target, p.targetName = e, name
	return nil
}

func isBaseLong(s string) bool {
	switch s {
	case "--protocol", "--source", "--destination", "--in-interface", "--out-interface", "--match", "--jump", "--goto", "--fragment", "--set-counters":
		return true
	}
	return false
}

// rules returns the rule bodies: one per combination of -s and -d list
// entries, as iptables expands "-s a,b" into several rules.
// single reports whether the rule expands into one rule (no -s/-d lists).
func (p *ruleParser) single() bool { return len(p.src) <= 1 && len(p.dst) <= 1 }

func (p *ruleParser) rules() [][]nf.Expr {
	if len(p.src) <= 1 && len(p.dst) <= 1 {
		return [][]nf.Expr{p.body(p.addrMatch(nf.FieldSrc, p.src, p.srcNeg, p.srcKey), p.addrMatch(nf.FieldDst, p.dst, p.dstNeg, p.dstKey))}
	}
	var out [][]nf.Expr
	for _, s := range orNone(p.src) {
		for _, d := range orNone(p.dst) {
			out = append(out, p.body(p.addrMatch(nf.FieldSrc, s, p.srcNeg, ""), p.addrMatch(nf.FieldDst, d, p.dstNeg, "")))
		}
	}
	return out
}

// orNone splits a -s/-d list into one-element lists (one nil for none).
func orNone(vals []nf.Value) [][]nf.Value {
	if len(vals) == 0 {
		return [][]nf.Value{nil}
	}
	out := make([][]nf.Value, len(vals))
	for i := range vals {
		out[i] = vals[i : i+1 : i+1]
	}
	return out
}

// addrMatch is the -s/-d test for one address, or nil when there is none
// (or it is 0.0.0.0/0 and not negated: iptables drops it). The match owns
// its value (vals may be a reused buffer); key, when set, is the option's
// text, under which the match is shared.
func (p *ruleParser) addrMatch(f nf.Field, vals []nf.Value, neg bool, key string) nf.Expr {
	if len(vals) == 0 || (vals[0].Bits == 0 && !neg) {
		return nil
	}
	if key != "" && p.cache != nil {
		if e, hit := p.cache.protos[key]; hit {
			return e
		}
	}
	var m *nf.FieldMatch
	if p.slab != nil {
		c := p.slab.addrs.one()
		c.v[0] = vals[0]
		c.m = nf.FieldMatch{Field: f, Values: c.v[:], Neg: neg}
		m = &c.m
	} else {
		m = &nf.FieldMatch{Field: f, Values: []nf.Value{vals[0]}, Neg: neg}
	}
	if key != "" && p.cache != nil {
		p.cache.protos[key] = m
	}
	return m
}

// body lays out one rule's expressions in the kernel's order (addresses,
// interfaces, protocol, matches, target) in a slice cut from the parser's
// slab, so a dump of many rules makes few allocations.
func (p *ruleParser) body(src, dst nf.Expr) []nf.Expr {
	n := len(p.header) + len(p.matches)
	for _, e := range []nf.Expr{src, dst, p.target} {
		if e != nil {
			n++
		}
	}
	out := p.slab.take(n)
	for _, e := range []nf.Expr{src, dst} {
		if e != nil {
			out = append(out, e)
		}
	}
	out = append(out, p.header...)
	out = append(out, p.matches...)
	if p.target != nil {
		out = append(out, p.target)
	}
	return out
}

// exprSlab hands out expression slices, rule records and the expressions
// nearly every rule has its own of (comments, addresses) from shared
// chunks: a dump of 300,000 rules then costs a few thousand allocations
// instead of a million.
type exprSlab struct {
	buf      []nf.Expr
	rules    chunks[nf.Rule]
	comments chunks[nf.CommentMatch]
	addrs    chunks[addrCell]
	verdicts chunks[nf.VerdictExpr]
	nats     chunks[nf.NATStmt]
	// lastComment is the comment match handed out last.
	lastComment *nf.CommentMatch
	// single backs the one-rule list build returns.
	single [1]*nf.Rule
	// scratch is the rule parser reused from rule to rule.
	scratch ruleParser
}

// addrCell is an address match with room for its one value.
type addrCell struct {
	m nf.FieldMatch
	v [1]nf.Value
}

// chunkLen is how many records a chunk holds.
const chunkLen = 1024

// chunks hands out records of T from chunks of chunkLen.
type chunks[T any] struct{ buf []T }

func (c *chunks[T]) one() *T {
	if len(c.buf) == cap(c.buf) {
		c.buf = make([]T, 0, chunkLen)
	}
	c.buf = c.buf[:len(c.buf)+1]
	return &c.buf[len(c.buf)-1]
}

func (s *exprSlab) verdict(v nf.Verdict) *nf.VerdictExpr {
	if s == nil {
		return &nf.VerdictExpr{V: v}
	}
	e := s.verdicts.one()
	e.V = v
	return e
}

func (s *exprSlab) nat() *nf.NATStmt {
	if s == nil {
		return &nf.NATStmt{}
	}
	return s.nats.one()
}

// comment returns the comment match of text: the previous one when it
// has the same text (the rules of a kube-proxy Service chain and of its
// endpoint chains all carry the Service's name), else a new one.
func (s *exprSlab) comment(text string) *nf.CommentMatch {
	if s == nil {
		return &nf.CommentMatch{Text: text}
	}
	if s.lastComment != nil && s.lastComment.Text == text {
		return s.lastComment
	}
	c := s.comments.one()
	c.Text = text
	s.lastComment = c
	return c
}

// one returns a list holding just r, valid until the next call.
func (s *exprSlab) one(r *nf.Rule) []*nf.Rule {
	if s == nil {
		return []*nf.Rule{r}
	}
	s.single[0] = r
	return s.single[:]
}

func (s *exprSlab) take(n int) []nf.Expr {
	if s == nil {
		return make([]nf.Expr, 0, n)
	}
	if len(s.buf)+n > cap(s.buf) {
		s.buf = make([]nf.Expr, 0, max(4096, n))
	}
	out := s.buf[len(s.buf) : len(s.buf) : len(s.buf)+n]
	s.buf = s.buf[:len(s.buf)+n]
	return out
}

// texts returns, for each rule rules() returns, its argument text: the
// original when there is one rule, else the arguments with the -s and -d
// lists narrowed to the rule's own address, as iptables-save would print
// the rules iptables expanded them into.
func (p *ruleParser) texts(orig string) []string {
	srcs, dsts := max(len(p.src), 1), max(len(p.dst), 1)
	if srcs*dsts == 1 {
		return []string{orig}
	}
	var out []string
	for i := 0; i < srcs; i++ {
		for j := 0; j < dsts; j++ {
			args := make([]string, len(p.toks))
			for k, t := range p.toks {
				args[k] = quote(t.s)
			}
			if len(p.src) > 0 {
				args[p.srcTok] = p.src[i].String()
			}
			if len(p.dst) > 0 {
				args[p.dstTok] = p.dst[j].String()
			}
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}

// span returns the source text of tokens [from, to) as a cache key; it is
// only usable when the module's implicit state is the same for every rule
// that spells it (the protocol, for implicit port modules).
func (p *ruleParser) span(from, to int) (string, bool) {
	if p.cache == nil || from < 0 || to <= from || to > len(p.toks) || p.line == "" {
		return "", false
	}
	return p.line[p.toks[from].col-1 : p.toks[to-1].end], true
}

func (c *exprCache) mod(key string, ok bool) ([]nf.Expr, bool) {
	if !ok || c == nil {
		return nil, false
	}
	e, hit := c.mods[key]
	return e, hit
}

func (c *exprCache) putMod(key string, ok bool, e []nf.Expr) {
	if ok && c != nil {
		c.mods[key] = e
	}
}

func (c *exprCache) target(key string, ok bool) (nf.Expr, bool) {
	if !ok || c == nil {
		return nil, false
	}
	e, hit := c.targets[key]
	return e, hit
}

func (c *exprCache) putTarget(key string, ok bool, e nf.Expr) {
	if ok && c != nil {
		c.targets[key] = e
	}
}

// addrAlternatives returns, for each address of a -s/-d list, the
// expressions testing it (none for an un-negated 0.0.0.0/0).
func addrAlternatives(f nf.Field, vals []nf.Value, neg bool) [][]nf.Expr {
	if len(vals) == 0 {
		return [][]nf.Expr{nil}
	}
	var out [][]nf.Expr
	for i := range vals {
		p := &ruleParser{}
		if e := p.addrMatch(f, vals[i:i+1:i+1], neg, ""); e != nil {
			out = append(out, []nf.Expr{e})
		} else {
			out = append(out, nil)
		}
	}
	return out
}
