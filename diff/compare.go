package diff

import (
	"cmp"
	"fmt"
	"slices"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Compare returns the changes that turn the ruleset before into after.
// Neither ruleset is modified. Result.Before and Result.After are left for
// the caller to name.
func Compare(before, after *nf.Ruleset) *Result {
	d := &differ{at: newAttributor(before, after), changes: []Change{}}
	for _, p := range pairTables(tablesOfRS(before), tablesOfRS(after)) {
		d.table(p.a, p.b)
	}
	d.attributeShared()
	return &Result{
		Before: []string{}, After: []string{},
		Changes:         d.changes,
		ExposureChanges: []ExposureChange{},
		Summary:         summarize(d.changes),
		Notes:           []string{},
	}
}

// differ accumulates changes in output order.
type differ struct {
	at      *attributor
	changes []Change
}

// add appends a change located in table t (either side's copy).
func (d *differ) add(t *nf.Table, c Change, a attribution) {
	c.Family, c.Table, c.Backend = string(t.Family), t.Name, string(t.Backend)
	c.Writer, c.WriterEvidence = a.writer, a.evidence
	d.changes = append(d.changes, c)
}

// table compares one pair of tables; a or b is nil when the table exists
// on one side only.
func (d *differ) table(a, b *nf.Table) {
	t := cmp.Or(b, a)
	switch {
	case a == nil:
		d.add(b, Change{Kind: TableAdded, RulesAfter: count(tableRules(b))}, ownerOrShared(b))
	case b == nil:
		d.add(a, Change{Kind: TableRemoved, RulesBefore: count(tableRules(a))}, ownerOrShared(a))
	case a.Dormant != b.Dormant:
		d.add(b, Change{Kind: TableChanged, TextBefore: tableFlags(a), TextAfter: tableFlags(b)}, ownerOrShared(b))
	}
	for _, name := range chainOrder(a, b) {
		d.chain(t, chainOf(a, name), chainOf(b, name))
	}
	for _, name := range setOrder(a, b) {
		d.set(t, setOf(a, name), setOf(b, name))
	}
}

// ownerOrShared is the table's owner when a component owns it by name,
// else an attribution decided later from the other changes.
func ownerOrShared(t *nf.Table) attribution {
	if t.Backend == nf.BackendNft {
		if w, ok := nftTableWriters[t.Name]; ok {
			return attribution{w, "table " + t.String()}
		}
	}
	return attribution{}
}

func tableFlags(t *nf.Table) string {
	if t.Dormant {
		return "flags dormant"
	}
	return "active"
}

func tableRules(t *nf.Table) int {
	n := 0
	for _, c := range t.Chains {
		n += len(c.Rules)
	}
	return n
}

func count(n int) *int { return &n }

// chain compares one chain; a or b is nil when it exists on one side only.
func (d *differ) chain(t *nf.Table, a, b *nf.Chain) {
	switch {
	case a == nil:
		d.add(t, Change{Kind: ChainAdded, Chain: b.Name, TextAfter: chainDecl(b), RulesAfter: count(len(b.Rules))}, chainAttribution(t, b))
	case b == nil:
		d.add(t, Change{Kind: ChainRemoved, Chain: a.Name, TextBefore: chainDecl(a), RulesBefore: count(len(a.Rules))}, chainAttribution(t, a))
	default:
		d.chainHeader(t, a, b)
	}
	d.rules(t, a, b)
}

// chainHeader reports base chain, policy and emptiness changes.
func (d *differ) chainHeader(t *nf.Table, a, b *nf.Chain) {
	at := chainAttribution(t, b)
	if hookDecl(a.Base) != hookDecl(b.Base) {
		d.add(t, Change{Kind: ChainChanged, Chain: b.Name, TextBefore: chainDecl(a), TextAfter: chainDecl(b)}, at)
	}
	if a.Base != nil && b.Base != nil && a.Base.Policy != b.Base.Policy {
		d.add(t, Change{Kind: PolicyChanged, Chain: b.Name, TextBefore: a.Base.Policy.String(), TextAfter: b.Base.Policy.String()}, at)
	}
	if len(a.Rules) > 0 && len(b.Rules) == 0 {
		d.add(t, Change{Kind: ChainEmptied, Chain: b.Name, RulesBefore: count(len(a.Rules)), RulesAfter: count(0)}, at)
	}
}

// chainAttribution attributes a chain by name; a base chain of a shared
// table (iptables' INPUT, FORWARD, ...) is decided later.
func chainAttribution(t *nf.Table, c *nf.Chain) attribution {
	if a, ok := chainWriter(t, c.Name); ok {
		return a
	}
	if c.Base != nil {
		return attribution{}
	}
	return attribution{WriterAdmin, "chain " + c.Name + " follows no component's naming"}
}

// chainDecl describes a chain for people: its base chain settings, or
// "regular chain".
func chainDecl(c *nf.Chain) string {
	if c.Base == nil {
		return "regular chain"
	}
	return baseDecl(c.Base)
}

func baseDecl(b *nf.BaseChain) string {
	if b == nil {
		return ""
	}
	return hookDecl(b) + " policy " + b.Policy.String()
}

// hookDecl is where a base chain sits: type, hook, priority and device
// (what chain_changed compares; the policy has its own kind).
func hookDecl(b *nf.BaseChain) string {
	if b == nil {
		return "regular chain"
	}
	s := fmt.Sprintf("type %s hook %s priority %d", b.Type, b.Hook.NftName(), b.Priority)
	if b.Device != "" {
		s += " device " + b.Device
	}
	return s
}

func chainOf(t *nf.Table, name string) *nf.Chain {
	if t == nil {
		return nil
	}
	return t.Chain(name)
}

// chainOrder lists the chains of both tables: base chains by hook,
// priority and name, then regular chains by name.
func chainOrder(a, b *nf.Table) []string {
	seen := map[string]*nf.Chain{}
	var names []string
	for _, t := range []*nf.Table{b, a} {
		if t == nil {
			continue
		}
		for _, c := range t.Chains {
			if seen[c.Name] == nil {
				seen[c.Name] = c
				names = append(names, c.Name)
			}
		}
	}
	slices.SortFunc(names, func(x, y string) int {
		cx, cy := seen[x], seen[y]
		if (cx.Base == nil) != (cy.Base == nil) {
			if cx.Base != nil {
				return -1
			}
			return 1
		}
		if cx.Base != nil {
			if c := cmp.Compare(cx.Base.Hook, cy.Base.Hook); c != 0 {
				return c
			}
			if c := cmp.Compare(cx.Base.Priority, cy.Base.Priority); c != 0 {
				return c
			}
		}
		return cmp.Compare(x, y)
	})
	return names
}

// summarize counts changes by kind and writer.
func summarize(cs []Change) Summary {
	s := Summary{Total: len(cs), ByKind: map[Kind]int{}, ByWriter: map[Writer]int{}}
	for _, c := range cs {
		s.ByKind[c.Kind]++
		s.ByWriter[c.Writer]++
	}
	return s
}
