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

	chainByName map[string]*Chain
}

// NewTable returns an empty table.
func NewTable(f Family, name string, b Backend) *Table {
	return &Table{Family: f, Name: name, Backend: b, Sets: map[string]*Set{}, chainByName: map[string]*Chain{}}
}

// Chain returns the chain with the given name, or nil.
func (t *Table) Chain(name string) *Chain { return t.chainByName[name] }

// AddChain appends a chain; it returns the existing chain of that name if
// there is one.
func (t *Table) AddChain(c *Chain) *Chain {
	// One map operation: a name already there (rare) shows as an
	// unchanged map size, and the chain it named is put back.
	n := len(t.chainByName)
	t.chainByName[c.Name] = c
	if len(t.chainByName) == n {
		if old := t.listed(c.Name); old != nil {
			t.chainByName[c.Name] = old
			return old
		}
	}
	c.Table = t
	c.at = int32(len(t.Chains))
	t.Chains = append(t.Chains, c)
	return c
}

// listed finds a chain by name in the chain list.
func (t *Table) listed(name string) *Chain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Reserve makes room for n more chains, for a front-end that knows how
// many a table declares.
func (t *Table) Reserve(n int) {
	if len(t.chainByName) > 0 || len(t.Chains) > 0 || n <= 0 {
		return
	}
	t.chainByName = make(map[string]*Chain, n)
	t.Chains = make([]*Chain, 0, n)
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
	return t.chainByName[name]
}

// RemoveChain deletes a chain by name (iptables -X).
func (t *Table) RemoveChain(name string) bool {
	c := t.chainByName[name]
	if c == nil {
		return false
	}
	delete(t.chainByName, name)
	for i, x := range t.Chains {
		if x == c {
			t.Chains = append(t.Chains[:i], t.Chains[i+1:]...)
			break
		}
	}
	for i, x := range t.Chains {
		x.at = int32(i)
	}
	return true
}

// IsIptables reports whether the table is an iptables table (either
// backend), whose chain names and built-in chains follow iptables rules.
func (t *Table) IsIptables() bool { return t.Backend != BackendNft }

// String names the table as nft does: "ip filter".
func (t *Table) String() string { return string(t.Family) + " " + t.Name }

// Chain is a base or regular chain.
type Chain struct {
	Table *Table
	Name  string
	// Base is nil for a regular (user-defined) chain.
	Base  *BaseChain
	Rules []*Rule
	// Index is filled by Validate for the simulator (see ChainIndex).
	Index *ChainIndex
	// ext holds what few chains have (policy counters, a file other than
	// the table's); nil for most: see Pos and Counters.
	ext *chainExt
	// line is the chain's line in its file (Pos).
	line int32
	// vid is the chain's position in its table during validation; at is
	// its position in Table.Chains as AddChain and RemoveChain keep it.
	vid int32
	at  int32
	// zeroKnown says the dump recorded [0:0] (with ext nil).
	zeroKnown bool
}

// chainExt is the out-of-line part of a Chain.
type chainExt struct {
	file     string
	counters Counters
}

// Pos is where the chain was declared; the file is its table's unless
// SetPos gave another.
func (c *Chain) Pos() Pos {
	if c.ext != nil && c.ext.file != "" {
		return Pos{File: c.ext.file, Line: int(c.line)}
	}
	return Pos{File: tableFile(c.Table), Line: int(c.line)}
}

// SetPos records where the chain was declared. A file equal to the
// table's (or empty) costs nothing: Pos reads it from the table.
func (c *Chain) SetPos(p Pos) {
	c.line = int32(p.Line)
	if p.File != "" && p.File != tableFile(c.Table) || c.ext != nil {
		c.extra().file = p.File
	}
}

// Counters are the policy counters of a built-in chain ([p:b] on its
// ":CHAIN" line); Known is false when the dump carried none.
func (c *Chain) Counters() Counters {
	if c.ext == nil {
		return Counters{Known: c.zeroKnown}
	}
	return c.ext.counters
}

// SetCounters records the chain's counters. Known zero counters (what
// iptables-save writes for most chains) cost no storage.
func (c *Chain) SetCounters(ctr Counters) {
	c.zeroKnown = ctr == Counters{Known: true}
	if c.ext == nil && (ctr == Counters{} || c.zeroKnown) {
		return
	}
	c.extra().counters = ctr
}

func (c *Chain) extra() *chainExt {
	if c.ext == nil {
		c.ext = &chainExt{}
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
	r.Index = len(c.Rules)
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
		x.Index = i + 1
	}
}

// Rule is one rule: expressions evaluated left to right.
type Rule struct {
	Chain *Chain
	// Index is the 1-based position in the chain (as --line-numbers and
	// nft's listing order give it).
	Index int
	Exprs []Expr
	// Text is the rule as the input spelled it.
	Text string
	// Target names what the rule does when it matches, for paths and
	// attribution: the -j/-g target of an iptables rule, or the last
	// statement/verdict of an nft rule.
	Target string
	// ext holds what most rules do not have (counters, an nft handle, a
	// file other than the table's, a comment its expressions do not
	// give); nil otherwise, which keeps the record
	// small for the hundreds of thousands of rules of a large dump.
	ext *ruleExt
	// line is the rule's line in its file (Pos).
	line int32
	// zeroKnown says the dump recorded [0:0] (with ext nil).
	zeroKnown bool
}

// ruleExt is the out-of-line part of a Rule.
type ruleExt struct {
	file     string
	comment  string
	counters Counters
	handle   uint64
	// commentSet says comment overrides the comment matches.
	commentSet bool
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
		return Pos{File: r.ext.file, Line: int(r.line)}
	}
	var t *Table
	if r.Chain != nil {
		t = r.Chain.Table
	}
	return Pos{File: tableFile(t), Line: int(r.line)}
}

// SetPos records where the rule was read. Front-ends give the line only
// (Pos{Line: n}) when the file is the table's, which costs nothing.
func (r *Rule) SetPos(p Pos) {
	r.line = int32(p.Line)
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
		return Counters{Known: r.zeroKnown}
	}
	return r.ext.counters
}

// SetCounters records the rule's counters.
func (r *Rule) SetCounters(c Counters) {
	r.zeroKnown = c == Counters{Known: true}
	if r.ext == nil && (c == Counters{} || r.zeroKnown) {
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

func (r *Rule) extra() *ruleExt {
	if r.ext == nil {
		r.ext = &ruleExt{}
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
