package nftables

import (
	"errors"
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// addSet declares a named set or map ({"set": …} / {"map": …}) with its
// elements. Key types come from "type" (a name or a list for
// concatenations) or, in text input, from "typeof" expressions.
func (b *builder) addSet(it item) error {
	t, err := b.table(it.obj)
	if err != nil {
		return fmt.Errorf("add %s: %w", it.kind, err)
	}
	name := field(it.obj, "name")
	if name == "" {
		return fmt.Errorf("add %s: no name", it.kind)
	}
	s, info, err := b.declareSet(t, it)
	if err != nil {
		return fmt.Errorf("add %s %s: %w", it.kind, name, err)
	}
	if old := t.Sets[name]; old == nil {
		t.Sets[name] = s
		b.setInfo[s] = info
	} else {
		s = old
	}
	if err := b.addElems(s, b.setInfo[s], it.obj["elem"]); err != nil {
		return fmt.Errorf("add %s %s: %w", it.kind, name, err)
	}
	return nil
}

func (b *builder) declareSet(t *nf.Table, it item) (*nf.Set, *setInfo, error) {
	s := &nf.Set{Name: field(it.obj, "name"), Flags: strList(it.obj["flags"]), Pos: b.pos(it)}
	info := &setInfo{}
	var err error
	if tooDeep(it.obj["typeof"], 0) || tooDeep(it.obj["typeof_data"], 0) {
		return nil, nil, errTooDeep
	}
	if tf, ok := it.obj["typeof"]; ok {
		s.KeyTypes, info.keys, err = b.typeofTypes(t.Family, tf)
	} else {
		s.KeyTypes, info.keys, err = typeNames(it.obj["type"])
	}
	if err != nil {
		return nil, nil, err
	}
	if it.kind == "map" {
		if tf, ok := it.obj["typeof_data"]; ok {
			_, info.data, err = b.typeofTypes(t.Family, tf)
			s.DataType = typeList(info.data)
		} else {
			s.DataType = strings.Join(strList(it.obj["map"]), " . ")
			_, info.data, err = typeNames(s.DataType)
		}
	}
	return s, info, err
}

// typeNames reads `type a . b` (JSON: "a" or ["a","b"]).
func typeNames(n node) ([]string, []vtype, error) {
	var names []string
	for _, x := range strList(n) {
		names = append(names, strings.Split(x, " . ")...)
	}
	if len(names) == 0 {
		return nil, nil, errors.New("no type")
	}
	ts := make([]vtype, len(names))
	for i, x := range names {
		t, ok := setTypes[strings.TrimSpace(x)]
		if !ok {
			return nil, nil, fmt.Errorf("unsupported set data type %q", x)
		}
		ts[i] = t
	}
	return names, ts, nil
}

// typeofTypes derives types from `typeof` expressions.
func (b *builder) typeofTypes(fam nf.Family, n node) ([]string, []vtype, error) {
	parts := []node{n}
	if k, v, ok := single(n); ok && k == "concat" {
		parts = list(v)
	}
	var ts []vtype
	for _, p := range parts {
		if k, _, ok := single(p); ok && k == "numgen" {
			ts = append(ts, tInt)
			continue
		}
		sp, err := b.spec(fam, p)
		if err != nil {
			return nil, nil, err
		}
		if sp.unknown != "" {
			return nil, nil, fmt.Errorf("unsupported typeof expression %q", sp.unknown)
		}
		ts = append(ts, sp.typ)
	}
	return strings.Split(typeList(ts), " . "), ts, nil
}

func typeList(ts []vtype) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = typeName(t)
		if t == tVerdict {
			s[i] = "verdict"
		}
	}
	return strings.Join(s, " . ")
}

// addElements adds {"element": {family, table, name, elem}}.
func (b *builder) addElements(it item) error {
	t, err := b.table(it.obj)
	if err != nil {
		return fmt.Errorf("add element: %w", err)
	}
	s := t.Sets[field(it.obj, "name")]
	if s == nil {
		return fmt.Errorf("add element: set %q does not exist in table %s", field(it.obj, "name"), t)
	}
	return b.addElems(s, b.setInfo[s], it.obj["elem"])
}

func (b *builder) addElems(s *nf.Set, info *setInfo, n node) error {
	for _, e := range list(n) {
		if tooDeep(e, 0) {
			return errTooDeep
		}
		el, err := b.element(info, e)
		if err != nil {
			return fmt.Errorf("element %s: %w", brief(e), err)
		}
		s.Elements = append(s.Elements, el)
	}
	return nil
}

// element reads one set element, or a [key, data] pair of a map.
func (b *builder) element(info *setInfo, n node) (nf.SetElement, error) {
	var el nf.SetElement
	key := n
	if pair, ok := n.([]any); ok {
		if len(pair) != 2 || info.data == nil {
			return el, errors.New("a map element needs a key and a value")
		}
		d, err := b.mapData(info.data, pair[1])
		if err != nil {
			return el, err
		}
		key, el.Data = pair[0], d
	}
	if k, v, ok := single(key); ok && k == "elem" {
		m, _ := obj(v)
		el.Comment = field(m, "comment")
		key = m["val"]
	}
	vals, err := b.keyValues(info.keys, key)
	el.Key = vals
	return el, err
}

// keyValues reads a (possibly concatenated) key against its types.
func (b *builder) keyValues(ts []vtype, n node) ([]nf.Value, error) {
	parts := []node{n}
	if k, v, ok := single(n); ok && k == "concat" {
		parts = list(v)
	}
	if len(parts) != len(ts) {
		return nil, fmt.Errorf("key has %d parts, the set %d", len(parts), len(ts))
	}
	out := make([]nf.Value, len(ts))
	for i, p := range parts {
		vs, err := b.values(ts[i], p)
		if err != nil {
			return nil, err
		}
		if len(vs) != 1 {
			return nil, fmt.Errorf("key part %s is not one value", brief(p))
		}
		out[i] = vs[0]
	}
	return out, nil
}

func (b *builder) mapData(ts []vtype, n node) (*nf.MapData, error) {
	if len(ts) == 1 && ts[0] == tVerdict {
		v, err := verdictData(n)
		return &nf.MapData{Verdict: v}, err
	}
	vals, err := b.keyValues(ts, n)
	return &nf.MapData{Values: vals}, err
}

// verdictData reads a verdict map value: {"goto": {"target": X}},
// {"accept": null} or "accept".
func verdictData(n node) (*nf.Verdict, error) {
	k, v, ok := single(n)
	if !ok {
		s, isStr := str(n)
		if !isStr {
			return nil, fmt.Errorf("expected a verdict, got %s", brief(n))
		}
		k = s
	}
	vd, ok := verdictOf(k, v)
	if !ok {
		return nil, fmt.Errorf("expected a verdict, got %s", brief(n))
	}
	return &vd, nil
}

// verdictOf reads a verdict statement.
func verdictOf(k string, v node) (nf.Verdict, bool) {
	switch k {
	case "accept":
		return nf.Verdict{Kind: nf.VerdictAccept}, true
	case "drop":
		return nf.Verdict{Kind: nf.VerdictDrop}, true
	case "continue":
		return nf.Verdict{Kind: nf.VerdictContinue}, true
	case "return":
		return nf.Verdict{Kind: nf.VerdictReturn}, true
	case "jump", "goto":
		m, _ := obj(v)
		kind := nf.VerdictJump
		if k == "goto" {
			kind = nf.VerdictGoto
		}
		return nf.Verdict{Kind: kind, Chain: field(m, "target")}, field(m, "target") != ""
	}
	return nf.Verdict{}, false
}

// anonSet builds an inline set or map of the given key (and data) types.
func (b *builder) anonSet(keys, data []vtype, elems node) (*nf.Set, error) {
	s := &nf.Set{Name: "", KeyTypes: strings.Split(typeList(keys), " . ")}
	if data != nil {
		s.DataType = typeList(data)
	}
	info := &setInfo{keys: keys, data: data}
	if err := b.addElems(s, info, elems); err != nil {
		return nil, err
	}
	s.BuildIndex()
	return s, nil
}
