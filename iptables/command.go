package iptables

import (
	"errors"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// command handles a rule-syntax line: "[p:b] -A CHAIN ...", -I, -N, -P,
// -X, -F, -Z (iptables-restore accepts them all inside a table; -S output
// is made of -P, -N and -A lines).
func (p *saveParser) command(s string, col int, line string) error {
	var ctr nf.Counters
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return p.errorf(col, line, "unterminated counters")
		}
		c, err := parseCounters(s[:end+1])
		if err != nil {
			return p.errorf(col, line, "%v", err)
		}
		ctr = c
		rest := strings.TrimLeft(s[end+1:], " \t")
		col += len(s) - len(rest)
		s = rest
	}
	if queued, err := p.deferRule(s, line, col, ctr); queued {
		return err
	}
	if len(p.jobs) > 0 || len(p.inFlight) > 0 {
		// Attach the queued rules before a command that may touch them.
		if err := p.runJobs(0); err != nil {
			return err
		}
	}
	toks, err := tokenizeInto(p.toks[:0], s)
	p.toks = toks
	if err != nil {
		return p.errorf(col+len(s), line, "%v", err)
	}
	for i := range toks {
		toks[i].col += col - 1
		toks[i].end += col - 1
	}
	if len(toks) < 2 {
		return p.errorf(col, line, "expected -A, -I, -N, -P, -X, -F or -Z with a chain")
	}
	if err := p.ensureTable(toks[0].s, toks[1].s, col, line); err != nil {
		return err
	}
	return p.apply(toks, ctr, line)
}

// ensureTable makes sure a table is open: in -S input, a run of -P lines
// starts a table, whose name follows from the set of built-in chains the
// run lists (iptables -S prints every built-in chain of its table).
func (p *saveParser) ensureTable(op, chain string, col int, line string) error {
	if !p.rulesMode && p.table == nil {
		if p.rs.Tables != nil {
			return p.errorf(col, line, "%s outside a table (missing *table line)", op)
		}
		p.rulesMode = true
	}
	if !p.rulesMode {
		return nil
	}
	isP := op == "-P"
	defer func() { p.lastWasP = isP }()
	if p.table == nil || (isP && !p.lastWasP) {
		name := p.o.Table
		if name == "" {
			name = tableFor(map[nf.Hook]bool{hookOf(chain): true})
		}
		p.table = nil
		return p.openTable(name, col, line)
	}
	if !isP || p.o.Table != "" {
		return nil
	}
	seen := map[nf.Hook]bool{hookOf(chain): true}
	for _, c := range p.table.Chains {
		if c.Base != nil {
			seen[c.Base.Hook] = true
		}
	}
	if name := tableFor(seen); name != p.table.Name {
		return p.retable(name, col, line)
	}
	return nil
}

func hookOf(chain string) nf.Hook {
	h, ok := nf.HookByName(chain)
	if !ok {
		return nf.NumHooks
	}
	return h
}

// tableFor names the iptables table whose built-in chains are exactly the
// hooks seen, or else the first that has them all (raw, nat, filter,
// mangle order: the smallest tables first).
func tableFor(seen map[nf.Hook]bool) string {
	order := []string{"raw", "nat", "filter", "mangle"}
	first := ""
	for _, name := range order {
		def, _ := nf.LookupIptablesTable(name)
		all := true
		for h := range seen {
			all = all && def.HasHook(h)
		}
		if !all {
			continue
		}
		if len(def.Hooks) == len(seen) {
			return name
		}
		if first == "" {
			first = name
		}
	}
	if first == "" {
		return "filter"
	}
	return first
}

// retable re-opens the current (still empty of rules) table under another
// name, for -S listings whose -P lines show it is not the guessed one.
func (p *saveParser) retable(name string, col int, line string) error {
	old := p.table
	p.removeTable(old)
	for k, t := range p.tables {
		if t == old {
			delete(p.tables, k)
		}
	}
	if err := p.openTable(name, col, line); err != nil {
		return err
	}
	for _, c := range old.Chains {
		pol := "-"
		if c.Base != nil {
			pol = c.Base.Policy.String()
		}
		if err := p.addChain(c.Name, pol, c.Counters(), col, line); err != nil {
			return err
		}
	}
	return nil
}

func (p *saveParser) apply(toks []token, ctr nf.Counters, line string) error {
	op, chain := toks[0].s, toks[1].s
	switch op {
	case "-A", "--append", "-I", "--insert":
		return p.addRule(toks, ctr, line)
	case "-N", "--new-chain", "--new":
		return p.addChain(chain, "-", nf.Counters{}, toks[1].col, line)
	case "-P", "--policy":
		return p.setPolicy(toks, line)
	case "-X", "--delete-chain":
		if !p.table.RemoveChain(chain) {
			return p.errorf(toks[1].col, line, "-X: no chain %q", chain)
		}
		return nil
	case "-F", "--flush":
		if c := p.table.Chain(chain); c != nil {
			c.Rules = nil
		}
		return nil
	case "-Z", "--zero":
		return nil
	case "-D", "--delete":
		return p.deleteRule(toks, line)
	}
	return p.errorf(toks[0].col, line, "unsupported command %q", op)
}

func (p *saveParser) setPolicy(toks []token, line string) error {
	if len(toks) < 3 {
		return p.errorf(toks[0].col, line, "-P needs a chain and a policy")
	}
	chain := toks[1].s
	c := p.table.Chain(chain)
	if c == nil {
		return p.addChain(chain, toks[2].s, nf.Counters{}, toks[2].col, line)
	}
	if c.Base == nil {
		return p.errorf(toks[1].col, line, "-P: %s is not a built-in chain", chain)
	}
	v, err := policyVerdict(toks[2].s)
	if err != nil {
		return p.errorf(toks[2].col, line, "%v", err)
	}
	c.Base.Policy = v
	return nil
}

func (p *saveParser) addRule(toks []token, ctr nf.Counters, line string) error {
	chainName := toks[1].s
	c := p.table.Chain(chainName)
	if c == nil {
		return p.errorf(toks[1].col, line, "chain %q not declared in table %s", chainName, p.table.Name)
	}
	args, pos := toks[2:], 0
	if op := toks[0].s; (op == "-I" || op == "--insert") && len(args) > 0 {
		if n, err := strconv.Atoi(args[0].s); err == nil {
			pos, args = n, args[1:]
		} else {
			pos = 1
		}
	}
	env := ruleEnv{fam: p.fam, file: p.o.File, lineNo: p.line, cache: p.cache(), slab: &p.slab}
	rules, err := env.build(toks[0], chainName, args, ctr, line)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if pos > 0 {
			c.InsertRule(pos, r)
			pos++
		} else {
			c.AddRule(r)
		}
	}
	return nil
}

// ruleEnv is what building a rule needs besides its text; parallel
// workers each have their own cache and slab.
type ruleEnv struct {
	fam    nf.IPFamily
	file   string
	lineNo int
	cache  *exprCache
	slab   *exprSlab
}

func (s *exprSlab) rule() *nf.Rule { return s.rules.one() }

// build parses a rule's arguments into rules (several when -s or -d list
// addresses).
func (e ruleEnv) build(op token, chainName string, args []token, ctr nf.Counters, line string) ([]*nf.Rule, error) {
	rp := e.parser(args, line)
	if err := rp.parse(); err != nil {
		var ce *colError
		if errors.As(err, &ce) {
			return nil, nf.Errorf(e.file, e.lineNo, ce.col, line, "%v", ce.err)
		}
		return nil, nf.Errorf(e.file, e.lineNo, op.col, line, "%v", err)
	}
	if rp.counters.Known {
		ctr = rp.counters
	}
	if op.s == "-A" && rp.single() {
		r := e.newRule()
		*r = nf.Rule{Exprs: rp.body(rp.addrMatch(nf.FieldSrc, rp.src, rp.srcNeg, rp.srcKey), rp.addrMatch(nf.FieldDst, rp.dst, rp.dstNeg, rp.dstKey)),
			Text: line[op.col-1:]}
		r.SetTarget(targetLabel(rp))
		setPlace(r, e.lineNo, ctr, rp.comment)
		return e.slab.one(r), nil
	}
	orig := ""
	if len(args) > 0 {
		orig = line[args[0].col-1:]
	}
	texts := rp.texts(orig)
	whole := ""
	if op.s == "-A" && len(texts) == 1 {
		// The line itself is the canonical text: no copy.
		whole = line[op.col-1:]
	}
	bodies := rp.rules()
	out := make([]*nf.Rule, len(bodies))
	for i, exprs := range bodies {
		text := whole
		if text == "" {
			text = strings.TrimSpace("-A " + chainName + " " + texts[i])
		}
		r := e.newRule()
		*r = nf.Rule{Exprs: exprs, Text: text}
		r.SetTarget(targetLabel(rp))
		setPlace(r, e.lineNo, ctr, rp.comment)
		out[i] = r
	}
	return out, nil
}

// setPlace records a parsed rule's line, counters and comment (which its
// comment match gives: no storage). The file is the table's (the
// parse's), which the rule reads from its table once added.
func setPlace(r *nf.Rule, line int, ctr nf.Counters, comment string) {
	r.SetPos(nf.Pos{Line: line})
	r.SetCounters(ctr)
	r.SetComment(comment)
}

func targetLabel(rp *ruleParser) string {
	if rp.target == nil {
		return ""
	}
	return rp.targetName
}

// parser returns a rule parser for args, reusing the worker's scratch
// buffers (option lists, argument lists, the rule's expressions before they
// are copied into the slab).
func (e ruleEnv) parser(args []token, line string) *ruleParser {
	if e.slab == nil {
		return &ruleParser{fam: e.fam, toks: args, line: line, cache: e.cache}
	}
	rp := &e.slab.scratch
	*rp = ruleParser{fam: e.fam, toks: args, line: line, cache: e.cache, slab: e.slab,
		header: rp.header[:0], matches: rp.matches[:0], curOpts: rp.curOpts[:0], argBuf: rp.argBuf[:0],
		srcBuf: rp.srcBuf[:0], dstBuf: rp.dstBuf[:0], tOpts: rp.tOpts[:0], tArgs: rp.tArgs[:0]}
	return rp
}

func (e ruleEnv) newRule() *nf.Rule {
	if e.slab == nil {
		return &nf.Rule{}
	}
	return e.slab.rule()
}

// deleteRule is -D CHAIN N (1-based) or -D CHAIN rule-spec (the first rule
// spelled the same way), as iptables-restore applies it.
func (p *saveParser) deleteRule(toks []token, line string) error {
	c := p.table.Chain(toks[1].s)
	if c == nil {
		return p.errorf(toks[1].col, line, "-D: no chain %q", toks[1].s)
	}
	at := -1
	if len(toks) == 3 {
		if n, err := strconv.Atoi(toks[2].s); err == nil {
			at = n - 1
		}
	}
	if at < 0 && len(toks) > 2 {
		spec := "-A " + c.Name + " " + line[toks[2].col-1:]
		for i, r := range c.Rules {
			if r.Text == spec {
				at = i
				break
			}
		}
	}
	if at < 0 || at >= len(c.Rules) {
		return p.errorf(toks[0].col, line, "-D: no such rule in chain %s", c.Name)
	}
	c.Rules = append(c.Rules[:at], c.Rules[at+1:]...)
	for i, r := range c.Rules {
		r.SetIndex(i + 1)
	}
	return nil
}
