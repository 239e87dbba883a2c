package nftables

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// item is one top-level object of the tree ({"table": …}, {"rule": …},
// {"add": {"rule": …}}) with where it came from.
type item struct {
	kind string
	obj  map[string]any
	line int
	col  int
	// text is the source text (nft text input) quoted in errors and used as
	// Rule.Text; empty for JSON, whose rules are printed instead.
	text string
	// insert: `insert rule` puts the rule first.
	insert bool
	// quote is the whole source line, quoted in errors when set.
	quote string
}

// builder lowers items into a ruleset.
type builder struct {
	file   string
	rs     *nf.Ruleset
	tables map[string]*nf.Table
	// setTypes holds the key and data types of every named set.
	setInfo map[*nf.Set]*setInfo
	xt      map[*nf.Table]bool
	// flowtables are "family table name" of the flowtables seen.
	flowtables map[string]bool
	// record, when set, sees every item before it is applied (tests turn
	// text input into the equivalent JSON with it).
	record func(item)
	// at is the position of the rule being lowered, for warnings.
	at nf.Pos
}

type setInfo struct {
	keys []vtype
	data []vtype
}

func newBuilder(file string) *builder {
	return &builder{file: file, rs: &nf.Ruleset{}, tables: map[string]*nf.Table{},
		setInfo: map[*nf.Set]*setInfo{}, xt: map[*nf.Table]bool{}, flowtables: map[string]bool{}}
}

// errAt wraps err as a ParseError at it.
func (b *builder) errAt(it item, err error) error {
	var pe *nf.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	text := it.quote
	if text == "" {
		text = it.text
	}
	if text == "" {
		text = brief(it.obj)
	}
	return &nf.ParseError{File: b.file, Line: it.line, Col: it.col, Text: text, Err: err}
}

func (b *builder) pos(it item) nf.Pos { return nf.Pos{File: b.file, Line: it.line} }

// apply adds one item to the ruleset.
func (b *builder) apply(it item) error {
	if b.record != nil {
		b.record(it)
	}
	var err error
	switch it.kind {
	case "metainfo":
		err = checkMeta(it.obj)
	case "table":
		_, err = b.addTable(it)
	case "chain":
		err = b.addChain(it)
	case "rule":
		err = b.addRule(it)
	case "set", "map":
		err = b.addSet(it)
	case "element":
		err = b.addElements(it)
	case "flowtable":
		b.flowtables[field(it.obj, "family")+" "+field(it.obj, "table")+" "+field(it.obj, "name")] = true
	case "counter", "quota", "ct helper", "limit", "ct timeout", "ct expectation", "secmark", "synproxy":
		// Named stateful objects: referenced by rules, no verdict of their own.
	default:
		err = fmt.Errorf("unsupported object %q", it.kind)
	}
	if err != nil {
		return b.errAt(it, err)
	}
	return nil
}

func checkMeta(m map[string]any) error {
	if v, ok := m["json_schema_version"]; ok {
		if n, err := num(v); err != nil || n != 1 {
			return fmt.Errorf("read metainfo: json_schema_version %s is not supported (want 1)", brief(v))
		}
	}
	return nil
}

var families = map[string]nf.Family{"ip": nf.FamilyIPv4, "ip6": nf.FamilyIPv6, "inet": nf.FamilyInet,
	"arp": nf.FamilyARP, "bridge": nf.FamilyBridge, "netdev": nf.FamilyNetdev}

func (b *builder) addTable(it item) (*nf.Table, error) {
	fam, ok := families[field(it.obj, "family")]
	if !ok {
		return nil, fmt.Errorf("add table: unknown family %q", field(it.obj, "family"))
	}
	name := field(it.obj, "name")
	if name == "" {
		return nil, errors.New("add table: no name")
	}
	key := string(fam) + " " + name
	if t := b.tables[key]; t != nil {
		return t, nil
	}
	t := nf.NewTable(fam, name, nf.BackendNft)
	t.Pos = b.pos(it)
	t.Seq = len(b.rs.Tables) + 1
	for _, f := range strList(it.obj["flags"]) {
		t.Dormant = t.Dormant || f == "dormant"
	}
	b.tables[key] = t
	b.rs.Tables = append(b.rs.Tables, t)
	return t, nil
}

// table finds the table an object names.
func (b *builder) table(m map[string]any) (*nf.Table, error) {
	key := field(m, "family") + " " + field(m, "table")
	t := b.tables[key]
	if t == nil {
		return nil, fmt.Errorf("table %q does not exist", key)
	}
	return t, nil
}

func (b *builder) addChain(it item) error {
	t, err := b.table(it.obj)
	if err != nil {
		return fmt.Errorf("add chain: %w", err)
	}
	name := field(it.obj, "name")
	if name == "" {
		return errors.New("add chain: no name")
	}
	c := &nf.Chain{Name: name, Table: t} // the table for SetPos; AddChain sets it again
	c.SetPos(b.pos(it))
	c = t.AddChain(c)
	if _, ok := it.obj["hook"]; !ok {
		return nil
	}
	base, err := b.baseChain(t, it.obj)
	if err != nil {
		return fmt.Errorf("add chain %s: %w", name, err)
	}
	c.Base = base
	return nil
}

func (b *builder) baseChain(t *nf.Table, m map[string]any) (*nf.BaseChain, error) {
	hookName := field(m, "hook")
	hook, ok := nf.HookByName(hookName)
	if !ok {
		if t.Family.Sees(nf.IPv4) || t.Family.Sees(nf.IPv6) {
			return nil, fmt.Errorf("unknown hook %q for family %s", hookName, t.Family)
		}
		hook = nf.HookIngress
	}
	typ := nf.ChainType(field(m, "type"))
	if typ == "" {
		typ = nf.ChainTypeFilter
	}
	if typ != nf.ChainTypeFilter && typ != nf.ChainTypeNAT && typ != nf.ChainTypeRoute {
		return nil, fmt.Errorf("unknown chain type %q", typ)
	}
	prio, err := parsePriority(t.Family, m["prio"])
	if err != nil {
		return nil, err
	}
	bc := &nf.BaseChain{Type: typ, Hook: hook, Priority: prio, Policy: nf.VerdictAccept}
	switch p := field(m, "policy"); p {
	case "", "accept":
	case "drop":
		bc.Policy = nf.VerdictDrop
	default:
		return nil, fmt.Errorf("unknown policy %q", p)
	}
	bc.Device = strings.Join(strList(m["dev"]), ",")
	return bc, nil
}

// parsePriority reads a base chain priority: a number, a name (raw,
// mangle, dstnat, filter, security, srcnat; bridge: dstnat, filter, out,
// srcnat) or a name plus or minus a number (`filter + 10`), as nft(8)
// defines them per family.
func parsePriority(fam nf.Family, n node) (int, error) {
	s, ok := str(n)
	if !ok {
		return 0, nil
	}
	s = strings.Join(strings.Fields(s), "")
	i := strings.IndexAny(s[min(1, len(s)):], "+-")
	base, off := s, ""
	if i >= 0 && !isInt(s) {
		base, off = s[:i+1], s[i+1:]
	}
	v, ok := priorityNames(fam)[base]
	if !ok {
		n, err := strconv.Atoi(base)
		if err != nil {
			return 0, fmt.Errorf("invalid priority %q", s)
		}
		v = n
	}
	if off != "" {
		d, err := strconv.Atoi(off)
		if err != nil {
			return 0, fmt.Errorf("invalid priority %q", s)
		}
		v += d
	}
	return v, nil
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func (b *builder) chainOf(m map[string]any) (*nf.Table, *nf.Chain, error) {
	t, err := b.table(m)
	if err != nil {
		return nil, nil, err
	}
	c := t.Chain(field(m, "chain"))
	if c == nil {
		return nil, nil, fmt.Errorf("chain %q does not exist in table %s", field(m, "chain"), t)
	}
	return t, c, nil
}

func (b *builder) addRule(it item) error {
	t, c, err := b.chainOf(it.obj)
	if err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	// Chain is set for SetPos, which then stores no file when it is the
	// table's; adding the rule sets it again.
	r := &nf.Rule{Chain: c}
	b.at = b.pos(it)
	r.SetPos(b.at)
	if h, ok := it.obj["handle"]; ok {
		hv, _ := num(h)
		r.SetHandle(hv)
	}
	stmts := list(it.obj["expr"])
	var ctr nf.Counters
	if r.Exprs, ctr, err = b.lowerRule(t, stmts); err != nil {
		return fmt.Errorf("add rule to %s %s: %w", t, c.Name, err)
	}
	r.SetCounters(ctr)
	r.SetComment(field(it.obj, "comment"))
	r.SetTarget(ruleTarget(t.Family, stmts))
	r.Text = it.text
	if r.Text == "" {
		r.Text = printRule(t.Family, stmts, r.Comment())
	}
	if it.insert {
		c.InsertRule(1, r)
	} else {
		c.AddRule(r)
	}
	return nil
}

// finish marks iptables-nft tables and reports what is not simulated.
func (b *builder) finish() *nf.Ruleset {
	for _, t := range b.rs.Tables {
		if b.xt[t] || looksIptablesNft(t) {
			t.Backend = nf.BackendIptablesNft
		}
		if b.xt[t] {
			b.warn(t.Pos, fmt.Sprintf("table %s was written by iptables-nft and holds xt expressions nft cannot show (matches and targets without their options): read it with iptables-nft-save (ip6tables-nft-save) instead; here they fork as unknown", t))
		}
		if !t.Family.Sees(nf.IPv4) && !t.Family.Sees(nf.IPv6) && hasBaseChain(t) {
			b.warn(t.Pos, fmt.Sprintf("table %s: %s-family chains are parsed but not simulated (the simulator follows IP packets through the ip/ip6/inet hooks)", t, t.Family))
		}
	}
	return b.rs
}

func (b *builder) warn(p nf.Pos, msg string) {
	b.rs.Warnings = append(b.rs.Warnings, nf.Warning{Pos: p, Message: msg})
}

func hasBaseChain(t *nf.Table) bool {
	for _, c := range t.Chains {
		if c.Base != nil {
			return true
		}
	}
	return false
}

// looksIptablesNft: an ip/ip6 table named like an iptables table whose base
// chains all carry iptables' built-in names, as iptables-nft creates them.
func looksIptablesNft(t *nf.Table) bool {
	def, ok := nf.LookupIptablesTable(t.Name)
	if !ok || (t.Family != nf.FamilyIPv4 && t.Family != nf.FamilyIPv6) {
		return false
	}
	n := 0
	for _, c := range t.Chains {
		if c.Base == nil {
			continue
		}
		h, ok := nf.HookByName(c.Name)
		if !ok || h != c.Base.Hook || !def.HasHook(h) || c.Name != h.String() {
			return false
		}
		n++
	}
	return n > 0
}
