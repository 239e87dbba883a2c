package netfilter

import "fmt"

// Pos is where a piece of the model came from.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Counters are packet and byte counters as a dump recorded them.
type Counters struct {
	Packets, Bytes uint64
	// Known is false when the dump carried no counters.
	Known bool
}

// Ruleset is everything a node's kernel runs: the tables of every backend
// and family. The kernel runs all of them; the simulator orders their base
// chains per hook by priority.
type Ruleset struct {
	Tables []*Table
	// Warnings collected at parse and validation time (unknown matches,
	// lossy formats, refused targets): the answer is uncertain there.
	Warnings []Warning
}

// Warning is a non-fatal problem found while loading a ruleset.
type Warning struct {
	Pos     Pos
	Message string
}

func (w Warning) String() string { return w.Pos.String() + ": " + w.Message }

// Table is one netfilter table: an iptables table (legacy or iptables-nft)
// or an nftables table.
type Table struct {
	Family  Family
	Name    string
	Backend Backend
	// Chains in listing order.
	Chains []*Chain
	// Sets are the table's named sets and maps (nftables) by name.
	Sets map[string]*Set
	// Seq orders table registration across the whole ruleset (load order),
	// which breaks priority ties on a hook: the kernel runs the base chain
	// registered last first (nf_hook_entries_grow inserts before equal
	// priorities).
	Seq int
	Pos Pos
	// Flags: nft table flags such as "dormant" (a dormant table's chains
	// are unregistered from their hooks).
	Dormant bool

	names chainNames
}

// NewTable returns an empty table.
func NewTable(f Family, name string, b Backend) *Table {
	return &Table{Family: f, Name: name, Backend: b, Sets: map[string]*Set{}}
}

// Chain returns the chain with the given name, or nil.
func (t *Table) Chain(name string) *Chain {
	if i := t.names.find(t.Chains, name); i >= 0 {
		return t.Chains[i]
	}
	return nil
}

// AddChain appends a chain; it returns the existing chain of that name if
// there is one.
func (t *Table) AddChain(c *Chain) *Chain {
	if old := t.Chain(c.Name); old != nil {
		return old
	}
	c.Table = t
	c.at = int32(len(t.Chains))
	t.Chains = append(t.Chains, c)
	t.names.add(t.Chains, int(c.at))
	return c
}

// Reserve makes room for n more chains, for a front-end that knows how
// many a table declares.
func (t *Table) Reserve(n int) {
	if len(t.Chains) > 0 || n <= 0 {
		return
	}
	t.Chains = make([]*Chain, 0, n)
	t.names.rebuild(nil, n)
}

// chainLookAhead is how many chains after the previous one ChainAfter
// compares by name before it hashes.
const chainLookAhead = 4

// ChainAfter is Chain for a reader going through a dump: iptables-save
// lists the rules chain by chain in the order it declared the chains, so
// the chain a rule line names is nearly always prev or one of the few
// listed right after it (chains without rules are skipped), which a name
// comparison finds without hashing. prev may be nil.
func (t *Table) ChainAfter(prev *Chain, name string) *Chain {
	if prev != nil && prev.Table == t && int(prev.at) < len(t.Chains) && t.Chains[prev.at] == prev {
		for i := int(prev.at); i < min(int(prev.at)+chainLookAhead, len(t.Chains)); i++ {
			if c := t.Chains[i]; c.Name == name {
				return c
			}
		}
	}
	return t.Chain(name)
}

// RemoveChain deletes a chain by name (iptables -X).
func (t *Table) RemoveChain(name string) bool {
	i := t.names.find(t.Chains, name)
	if i < 0 {
		return false
	}
	t.Chains = append(t.Chains[:i], t.Chains[i+1:]...)
	for j, x := range t.Chains {
		x.at = int32(j)
	}
	t.names.rebuild(t.Chains, len(t.Chains))
	return true
}

// IsIptables reports whether the table is an iptables table (either
// backend), whose chain names and built-in chains follow iptables rules.
func (t *Table) IsIptables() bool { return t.Backend != BackendNft }

// String names the table as nft does: "ip filter".
func (t *Table) String() string { return string(t.Family) + " " + t.Name }

// Chain is a base or regular chain.
//
// The record is 72 bytes (a 10k-Service kube-proxy dump has 110,000
// chains): what few chains have (policy counters other than [0:0], a file
// other than the table's, a lookup index) lives in a side record.
type Chain struct {
	Table *Table
	Name  string
	// Base is nil for a regular (user-defined) chain.
	Base  *BaseChain
	Rules []*Rule
	// ext holds what few chains have; nil for most: see Pos, Counters
	// and Index.
	ext *chainExt
	// line is the chain's line in its file (Pos), shifted left by one;
	// the low bit says the dump recorded [0:0] counters (with ext nil).
	line int32
	// at is the chain's position in Table.Chains, as AddChain and
	// RemoveChain keep it and Validate sets it.
	at int32
}

// chainExt is the out-of-line part of a Chain.
type chainExt struct {
	file     string
	counters Counters
	index    *ChainIndex
}

// Index is the lookup index Validate built for the simulator (see
// ChainIndex), or nil: a chain the kernel scans as fast as an index would.
func (c *Chain) Index() *ChainIndex {
	if c.ext == nil {
		return nil
	}
	return c.ext.index
}

// setIndex records the chain's lookup index; nil costs nothing.
func (c *Chain) setIndex(ix *ChainIndex) {
	if ix == nil && c.ext == nil {
		return
	}
	c.extra().index = ix
}

// Pos is where the chain was declared; the file is its table's unless
// SetPos gave another.
func (c *Chain) Pos() Pos {
	if c.ext != nil && c.ext.file != "" {
		return Pos{File: c.ext.file, Line: int(c.line >> 1)}
	}
	return Pos{File: tableFile(c.Table), Line: int(c.line >> 1)}
}

// SetPos records where the chain was declared. A file equal to the
// table's (or empty) costs nothing: Pos reads it from the table.
func (c *Chain) SetPos(p Pos) {
	c.line = int32(p.Line)<<1 | c.line&1
	if p.File != "" && p.File != tableFile(c.Table) || c.ext != nil {
		c.extra().file = p.File
	}
}

// Counters are the policy counters of a built-in chain ([p:b] on its
// ":CHAIN" line); Known is false when the dump carried none.
func (c *Chain) Counters() Counters {
	if c.ext == nil {
		return Counters{Known: c.line&1 == 1}
	}
	return c.ext.counters
}

// SetCounters records the chain's counters. Known zero counters (what
// iptables-save writes for most chains) cost no storage.
func (c *Chain) SetCounters(ctr Counters) {
	zero := ctr == Counters{Known: true}
	c.line &^= 1
	if zero {
		c.line |= 1
	}
	if c.ext == nil && (ctr == Counters{} || zero) {
		return
	}
	c.extra().counters = ctr
}

// extra returns the side record, made on first use; known zero counters
// recorded before it existed move into it.
func (c *Chain) extra() *chainExt {
	if c.ext == nil {
		c.ext = &chainExt{counters: Counters{Known: c.line&1 == 1}}
	}
	return c.ext
}

// tableFile is the file a table was read from ("" when unknown).
func tableFile(t *Table) string {
	if t == nil {
		return ""
	}
	return t.Pos.File
}

// BaseChain says where a chain is attached to a hook.
type BaseChain struct {
	Type     ChainType
	Hook     Hook
	Priority int
	// Policy is the verdict when the chain's rules are exhausted: Accept or
	// Drop (iptables -P; nft `policy`).
	Policy VerdictKind
	// Device for netdev/ingress chains.
	Device string
}

// AddRule appends a rule and numbers it.
func (c *Chain) AddRule(r *Rule) {
	r.Chain = c
	c.Rules = append(c.Rules, r)
	r.index = int32(len(c.Rules))
}

// InsertRule inserts a rule at 1-based position pos (iptables -I) and
// renumbers.
func (c *Chain) InsertRule(pos int, r *Rule) {
	if pos < 1 || pos > len(c.Rules)+1 {
		pos = 1
	}
	r.Chain = c
	c.Rules = append(c.Rules, nil)
	copy(c.Rules[pos:], c.Rules[pos-1:])
	c.Rules[pos-1] = r
	for i, x := range c.Rules {
		x.index = int32(i + 1)
	}
}

// Rule is one rule: expressions evaluated left to right.
//
// The record is 64 bytes: a large kube-proxy dump has hundreds of
// thousands of rules. What few rules have (counters other than [0:0], an
// nft handle, a file other than the table's, a comment or a target the
// expressions do not give) lives in a side record.
type Rule struct {
	Chain *Chain
	Exprs []Expr
	// Text is the rule as the input spelled it.
	Text string
	// ext holds what most rules do not have; nil otherwise.
	ext *ruleExt
	// index is the 1-based position in the chain (Index).
	index int32
	// line is the rule's line in its file (Pos), shifted left by one; the
	// low bit says the dump recorded [0:0] counters (with ext nil).
	line int32
}

// Index is the rule's 1-based position in its chain, as
// `iptables -L --line-numbers` and nft's listing order give it.
func (r *Rule) Index() int { return int(r.index) }

// SetIndex records the rule's position; AddRule and InsertRule keep it
// for rules added through them.
func (r *Rule) SetIndex(i int) { r.index = int32(i) }

// Target names what the rule does when it matches, for paths and
// attribution: the -j/-g target of an iptables rule ("KUBE-SEP-…",
// "DNAT", "ACCEPT"), or the last statement or verdict of an nft rule; ""
// when the rule has none. It is read from the rule's last expression
// unless SetTarget recorded something else.
func (r *Rule) Target() string {
	if r.ext != nil && r.ext.targetSet {
		return r.ext.target
	}
	return exprTarget(r.Exprs)
}

// SetTarget records the rule's target name; call it once Exprs are set.
// A name the last expression already gives (a jump's chain, a verdict, a
// NAT statement's kind, an unknown target's name) costs nothing.
func (r *Rule) SetTarget(s string) {
	if r.ext == nil && s == exprTarget(r.Exprs) {
		return
	}
	x := r.extra()
	x.target, x.targetSet = s, true
}

// exprTarget is the target name the rule's last expression implies: the
// chain of a jump or goto, the name of another verdict (ACCEPT, DROP,
// RETURN, …), or the kind of a NAT statement (DNAT, SNAT, MASQUERADE,
// REDIRECT). Other statements give "" and their rules record the name.
func exprTarget(exprs []Expr) string {
	if len(exprs) == 0 {
		return ""
	}
	switch e := exprs[len(exprs)-1].(type) {
	case *VerdictExpr:
		if e.V.Kind == VerdictJump || e.V.Kind == VerdictGoto {
			return e.V.Chain
		}
		return e.V.Kind.String()
	case *NATStmt:
		return e.Kind.String()
	case *UnknownTarget:
		return e.Name
	}
	return ""
}

// ruleExt is the out-of-line part of a Rule.
type ruleExt struct {
	file     string
	comment  string
	target   string
	counters Counters
	handle   uint64
	// commentSet says comment overrides the comment matches; targetSet
	// says target overrides the last expression's.
	commentSet, targetSet bool
}

// Comment is the rule's comment: the first non-empty -m comment text, or
// what SetComment recorded (nft's `comment`). An iptables rule's comment
// is read from its comment match, so it costs no storage of its own.
func (r *Rule) Comment() string {
	if r.ext != nil && r.ext.commentSet {
		return r.ext.comment
	}
	return exprComment(r.Exprs)
}

// SetComment records the rule's comment; call it once Exprs are set. A
// comment the rule's comment matches already give costs nothing.
func (r *Rule) SetComment(s string) {
	if r.ext == nil && s == exprComment(r.Exprs) {
		return
	}
	x := r.extra()
	x.comment, x.commentSet = s, true
}

// exprComment is the text of the first non-empty comment match.
func exprComment(exprs []Expr) string {
	for _, e := range exprs {
		if c, ok := e.(*CommentMatch); ok && c.Text != "" {
			return c.Text
		}
	}
	return ""
}

// Pos is where the rule was read; the file is its table's unless SetPos
// gave another.
func (r *Rule) Pos() Pos {
	if r.ext != nil && r.ext.file != "" {
		return Pos{File: r.ext.file, Line: int(r.line >> 1)}
	}
	var t *Table
	if r.Chain != nil {
		t = r.Chain.Table
	}
	return Pos{File: tableFile(t), Line: int(r.line >> 1)}
}

// SetPos records where the rule was read. Front-ends give the line only
// (Pos{Line: n}) when the file is the table's, which costs nothing.
func (r *Rule) SetPos(p Pos) {
	r.line = int32(p.Line)<<1 | r.line&1
	if p.File == "" && r.ext == nil {
		return
	}
	if r.ext == nil && r.Chain != nil && p.File == tableFile(r.Chain.Table) {
		return
	}
	r.extra().file = p.File
}

// Counters are the counters the dump recorded for the rule ([p:b]
// prefix, or nft counter); Known is false when it recorded none.
func (r *Rule) Counters() Counters {
	if r.ext == nil {
		return Counters{Known: r.line&1 == 1}
	}
	return r.ext.counters
}

// SetCounters records the rule's counters.
func (r *Rule) SetCounters(c Counters) {
	zero := c == Counters{Known: true}
	r.line &^= 1
	if zero {
		r.line |= 1
	}
	if r.ext == nil && (c == Counters{} || zero) {
		return
	}
	r.extra().counters = c
}

// Handle is the nft rule handle (0 for iptables).
func (r *Rule) Handle() uint64 {
	if r.ext == nil {
		return 0
	}
	return r.ext.handle
}

// SetHandle records the nft rule handle.
func (r *Rule) SetHandle(h uint64) {
	if h == 0 && r.ext == nil {
		return
	}
	r.extra().handle = h
}

// extra returns the side record, made on first use; known zero counters
// recorded before it existed move into it.
func (r *Rule) extra() *ruleExt {
	if r.ext == nil {
		r.ext = &ruleExt{counters: Counters{Known: r.line&1 == 1}}
	}
	return r.ext
}

// Set is a named nftables set or map, or an ipset given to the simulator.
type Set struct {
	Name string
	// KeyTypes are the element key types (several for concatenations).
	KeyTypes []string
	// DataType is the map's value type ("verdict" for a verdict map; ""
	// for a plain set).
	DataType string
	Flags    []string
	Elements []SetElement
	Pos      Pos
	// index is built lazily for exact-key lookups.
	index map[string][]int
}

// SetElement is one element: a key (one Value per concatenated field,
// each possibly a range or prefix) and, for maps, the data.
type SetElement struct {
	Key  []Value
	Data *MapData
	// Comment on the element (kube-proxy nft mode names Services here).
	Comment string
}

// MapData is the value of a map element: a verdict (vmap), or a value such
// as a NAT address and port.
type MapData struct {
	Verdict *Verdict
	Values  []Value
}
