package diff

import (
	"slices"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

func setOf(t *nf.Table, name string) *nf.Set {
	if t == nil {
		return nil
	}
	return t.Sets[name]
}

// setOrder lists the set names of both tables, sorted.
func setOrder(a, b *nf.Table) []string {
	var names []string
	for _, t := range []*nf.Table{a, b} {
		if t == nil {
			continue
		}
		for n := range t.Sets {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

// set compares one named set or map (either may be nil). Elements are
// unordered: an element is the same when its key is; a map element whose
// key stays but whose data changes (a vmap entry now going to another
// chain) is removed and added again, as `nft delete element` and `nft add
// element` change it.
func (d *differ) set(t *nf.Table, a, b *nf.Set) {
	at := setAttribution(t)
	switch {
	case a == nil:
		d.add(t, Change{Kind: SetAdded, Set: b.Name, TextAfter: setDecl(b)}, at)
	case b == nil:
		d.add(t, Change{Kind: SetRemoved, Set: a.Name, TextBefore: setDecl(a)}, at)
	case setDecl(a) != setDecl(b):
		d.add(t, Change{Kind: SetChanged, Set: b.Name, TextBefore: setDecl(a), TextAfter: setDecl(b)}, at)
	}
	before, after := elementTexts(a), elementTexts(b)
	for _, e := range multisetMinus(before, after) {
		d.add(t, Change{Kind: ElementRemoved, Set: a.Name, TextBefore: e}, elementAttribution(at, e))
	}
	for _, e := range multisetMinus(after, before) {
		d.add(t, Change{Kind: ElementAdded, Set: b.Name, TextAfter: e}, elementAttribution(at, e))
	}
}

// setAttribution is the owner of the set's table, or decided later from
// the other changes.
func setAttribution(t *nf.Table) attribution { return ownerOrShared(t) }

func elementAttribution(at attribution, text string) attribution {
	if _, comment, ok := strings.Cut(text, ` comment "`); ok && at.writer != "" {
		at.evidence += `, element comment "` + comment
	}
	return at
}

// setDecl describes a set as nft declares it.
func setDecl(s *nf.Set) string {
	var b strings.Builder
	b.WriteString("type " + strings.Join(s.KeyTypes, " . "))
	if s.DataType != "" {
		b.WriteString(" : " + s.DataType)
	}
	if len(s.Flags) > 0 {
		b.WriteString(" flags " + strings.Join(s.Flags, ","))
	}
	return b.String()
}

// elementTexts renders a set's elements in listing order.
func elementTexts(s *nf.Set) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s.Elements))
	for i, e := range s.Elements {
		out[i] = elementText(s, e)
	}
	return out
}

// elementText renders an element as nft lists it: "10.0.0.10 . tcp . 80 :
// goto service-X", with protocol numbers named after the inet_proto key.
func elementText(s *nf.Set, e nf.SetElement) string {
	keys := make([]string, len(e.Key))
	for i, v := range e.Key {
		keys[i] = v.String()
		if i < len(s.KeyTypes) && s.KeyTypes[i] == "inet_proto" && v.Kind == nf.ValInt && v.IsSingle() && v.Lo < 256 {
			keys[i] = nf.ProtoName(uint8(v.Lo))
		}
	}
	out := strings.Join(keys, " . ")
	if e.Data != nil {
		out += " : " + mapData(e.Data)
	}
	if e.Comment != "" {
		out += ` comment "` + e.Comment + `"`
	}
	return out
}

func mapData(m *nf.MapData) string {
	if v := m.Verdict; v != nil {
		out := strings.ToLower(v.Kind.String())
		if v.Chain != "" {
			out += " " + v.Chain
		}
		return out
	}
	vals := make([]string, len(m.Values))
	for i, v := range m.Values {
		vals[i] = v.String()
	}
	return strings.Join(vals, " . ")
}

// multisetMinus returns the items of xs not matched by an equal item of
// ys, in xs order.
func multisetMinus(xs, ys []string) []string {
	left := map[string]int{}
	for _, y := range ys {
		left[y]++
	}
	var out []string
	for _, x := range xs {
		if left[x] > 0 {
			left[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}
