package netfilter

import (
	"fmt"
	"net/netip"
	"strings"
)

// KeyVal is one field of a packet as a set lookup sees it.
type KeyVal struct {
	Kind ValueKind
	Int  uint64
	Addr netip.Addr
	Str  string
}

// Key returns the packet's value of field f for a set lookup, and whether
// the packet has that field.
func (p *Packet) Key(f Field) (KeyVal, bool) {
	switch f {
	case FieldSrc:
		return KeyVal{Kind: ValAddr, Addr: p.Src}, true
	case FieldDst:
		return KeyVal{Kind: ValAddr, Addr: p.Dst}, true
	case FieldCTOrigSrc:
		return KeyVal{Kind: ValAddr, Addr: p.CT.OrigSrc}, p.CT.Attached
	case FieldCTOrigDst:
		return KeyVal{Kind: ValAddr, Addr: p.CT.OrigDst}, p.CT.Attached
	case FieldInIface:
		return KeyVal{Kind: ValString, Str: p.InIface}, true
	case FieldOutIface:
		return KeyVal{Kind: ValString, Str: p.OutIface}, true
	case FieldSrcMAC:
		return KeyVal{Kind: ValString, Str: p.SrcMAC}, p.SrcMAC != ""
	}
	v, ok := p.fieldInt(f)
	return KeyVal{Kind: ValInt, Int: v}, ok
}

func (v Value) containsKey(k KeyVal) bool {
	switch k.Kind {
	case ValAddr:
		return v.ContainsAddr(k.Addr)
	case ValString:
		return v.ContainsString(k.Str)
	}
	return v.ContainsInt(k.Int)
}

func (k KeyVal) exact() string {
	switch k.Kind {
	case ValAddr:
		return k.Addr.String()
	case ValString:
		return "s:" + k.Str
	}
	return fmt.Sprint(k.Int)
}

func (v Value) exactKey() (string, bool) {
	if !v.IsSingle() {
		return "", false
	}
	switch v.Kind {
	case ValAddr:
		return v.AddrLo().String(), true
	case ValString:
		return "s:" + v.Str, true
	}
	return fmt.Sprint(v.Lo), true
}

// BuildIndex prepares exact-key lookups; Validate calls it. Elements with
// ranges, prefixes or wildcards stay in a list scanned in order.
func (s *Set) BuildIndex() {
	s.index = map[string][]int{}
	for i, e := range s.Elements {
		k, ok := elementKey(e.Key)
		if !ok {
			k = "*"
		}
		s.index[k] = append(s.index[k], i)
	}
}

func elementKey(vals []Value) (string, bool) {
	parts := make([]string, len(vals))
	for i, v := range vals {
		k, ok := v.exactKey()
		if !ok {
			return "", false
		}
		parts[i] = k
	}
	return strings.Join(parts, " . "), true
}

// Lookup returns the index of the first element whose key contains keys
// (interval sets match the element holding the value), or -1.
func (s *Set) Lookup(keys []KeyVal) int {
	if s.index == nil {
		s.BuildIndex()
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.exact()
	}
	best := -1
	if idx := s.index[strings.Join(parts, " . ")]; len(idx) > 0 {
		best = idx[0]
	}
	for _, i := range s.index["*"] {
		if best >= 0 && i > best {
			break
		}
		if s.elementHas(i, keys) {
			return i
		}
	}
	return best
}

func (s *Set) elementHas(i int, keys []KeyVal) bool {
	e := s.Elements[i]
	if len(e.Key) != len(keys) {
		return false
	}
	for j, v := range e.Key {
		if !v.containsKey(keys[j]) {
			return false
		}
	}
	return true
}

// packetKeys collects the key fields; ok is false when one is absent.
func packetKeys(p *Packet, fields []Field) ([]KeyVal, bool) {
	keys := make([]KeyVal, len(fields))
	for i, f := range fields {
		k, ok := p.Key(f)
		if !ok {
			return nil, false
		}
		keys[i] = k
	}
	return keys, true
}

// findSet resolves a set by name: the rule's table first (nft sets), then
// the ipsets given to the simulator.
func findSet(c *Ctx, name string) *Set {
	if c.Table != nil {
		if s := c.Table.Sets[name]; s != nil {
			return s
		}
	}
	if c.Env != nil {
		return c.Env.IPSets[name]
	}
	return nil
}

// SetMatch tests membership of a concatenation of packet fields in a named
// set: nft `ip daddr . tcp dport @name`, or iptables `-m set --match-set
// name dst,dst`. An ipset whose contents were not given forks.
type SetMatch struct {
	Keys []Field
	Set  string
	Neg  bool
	// Anon holds an anonymous set inline (nft `{ ... }`).
	Anon *Set
	// Text as written, for messages.
	Text string
	// IPSetDirs are the src/dst flags of iptables -m set; the key fields
	// then follow the ipset's key types (an address dimension reads the
	// source or destination address, a port dimension the port).
	IPSetDirs []string
}

// Eval implements Expr.
func (m *SetMatch) Eval(c *Ctx) Outcome {
	s := m.Anon
	if s == nil {
		s = findSet(c, m.Set)
	}
	if s == nil {
		key := "set:" + m.Set
		if v, ok := c.Env.Assumed(key); ok {
			o := boolOutcome(v)
			o.Assumption = fmt.Sprintf("set %s assumed to %s (--assume %s=%t)", m.Set, matchWord(v), key, v)
			return o
		}
		return Outcome{Kind: OutFork, Branches: []Branch{
			{Assumption: fmt.Sprintf("%s: packet in set %s (contents not given)", m.String(), m.Set), Then: Const(true)},
			{Assumption: fmt.Sprintf("%s: packet not in set %s (contents not given)", m.String(), m.Set), Then: Const(false)},
		}}
	}
	fields := m.Keys
	if len(m.IPSetDirs) > 0 {
		fields = ipsetFields(s, m.IPSetDirs)
	}
	keys, ok := packetKeys(c.Pkt, fields)
	if !ok {
		return outNoMatch
	}
	return boolOutcome((s.Lookup(keys) >= 0) != m.Neg)
}

func (m *SetMatch) String() string {
	if m.Text != "" {
		return m.Text
	}
	return fmt.Sprintf("%s%s @%s", neg(m.Neg), fieldList(m.Keys), m.Set)
}

func fieldList(fs []Field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return strings.Join(s, " . ")
}

// VMapExpr looks a concatenation of packet fields up in a verdict map (nft
// `... vmap @name` or an anonymous `vmap { ... }`): the element's verdict
// decides; no element means the rule does not match (NFT_BREAK).
type VMapExpr struct {
	Keys []Field
	Map  string
	Anon *Set
	Text string
}

// Eval implements Expr.
func (e *VMapExpr) Eval(c *Ctx) Outcome {
	s := e.Anon
	if s == nil {
		s = findSet(c, e.Map)
	}
	if s == nil {
		return outNoMatch
	}
	keys, ok := packetKeys(c.Pkt, e.Keys)
	if !ok {
		return outNoMatch
	}
	i := s.Lookup(keys)
	if i < 0 || s.Elements[i].Data == nil || s.Elements[i].Data.Verdict == nil {
		return outNoMatch
	}
	return Outcome{Kind: OutVerdict, Verdict: *s.Elements[i].Data.Verdict}
}

func (e *VMapExpr) String() string {
	if e.Text != "" {
		return e.Text
	}
	return fmt.Sprintf("%s vmap @%s", fieldList(e.Keys), e.Map)
}

// ipsetFields maps -m set direction flags onto the set's key types.
func ipsetFields(s *Set, dirs []string) []Field {
	n := min(len(dirs), len(s.KeyTypes))
	out := make([]Field, n)
	for i := 0; i < n; i++ {
		src := dirs[i] == "src"
		switch {
		case strings.Contains(s.KeyTypes[i], "service") || strings.Contains(s.KeyTypes[i], "port"):
			out[i] = FieldDPort
			if src {
				out[i] = FieldSPort
			}
		case strings.Contains(s.KeyTypes[i], "ifname") || strings.Contains(s.KeyTypes[i], "iface"):
			out[i] = FieldOutIface
			if src {
				out[i] = FieldInIface
			}
		default:
			out[i] = FieldDst
			if src {
				out[i] = FieldSrc
			}
		}
	}
	return out
}
