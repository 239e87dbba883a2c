package exposure

import (
	"net/netip"
	"reflect"
	"slices"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// cuts are the boundaries an expression draws in the port and source
// spaces: a port cut p separates p-1 from p; a source cut a separates
// a.Prev() from a. atom marks a port test that is not an interval (a
// masked port), which splits every port apart.
type cuts struct {
	ports []int32
	srcs  []netip.Addr
	atom  bool
	// pranges and sranges are the port and source sets the expressions
	// test: two ports (sources) held by the same ranges are treated alike,
	// even when a cut lies between them.
	pranges []portRange
	sranges []addrRange
	// dsts are the destination ranges the expressions test; dstAny marks
	// a dependence on the destination that ranges do not describe (an
	// unknown expression, REDIRECT, addrtype relative to an interface).
	// They decide whether two local addresses can share an answer.
	dsts   []addrRange
	dstAny bool
	// protos, when set, are the only protocols the rule can match: a
	// protocol test that only pure matches precede fails for the others,
	// whatever the rest of the packet.
	protos []uint8
}

// never reports whether the rule cannot match a packet of proto (its
// cuts then tell nothing apart).
func (c *cuts) never(proto uint8) bool {
	return c.protos != nil && !slices.Contains(c.protos, proto)
}

func (c *cuts) empty() bool {
	return len(c.ports) == 0 && len(c.srcs) == 0 && !c.atom && len(c.dsts) == 0 && !c.dstAny
}

// addPorts records the interval [lo, hi].
func (c *cuts) addPorts(lo, hi uint64) {
	if lo > 0 && lo <= 65535 {
		c.ports = append(c.ports, int32(lo))
	}
	if hi < 65535 {
		c.ports = append(c.ports, int32(hi+1))
	}
	if lo <= 65535 && lo <= hi {
		c.pranges = append(c.pranges, portRange{int32(lo), int32(min(hi, 65535))})
	}
}

// addAddrs records the address interval [lo, hi].
func (c *cuts) addAddrs(lo, hi netip.Addr) {
	if !lo.IsValid() {
		return
	}
	c.srcs = append(c.srcs, lo)
	if n := hi.Next(); n.IsValid() {
		c.srcs = append(c.srcs, n)
	}
	c.sranges = append(c.sranges, addrRange{lo, hi})
}

// normalize sorts and deduplicates.
func (c *cuts) normalize() {
	if len(c.ports) < 2 && len(c.srcs) < 2 {
		return
	}
	slices.Sort(c.ports)
	c.ports = slices.Compact(c.ports)
	slices.SortFunc(c.srcs, func(a, b netip.Addr) int { return a.Compare(b) })
	c.srcs = slices.Compact(c.srcs)
}

// ruleCuts returns the cuts of every expression of r.
func ruleCuts(r *nf.Rule, env *nf.Env) cuts {
	var c cuts
	var t *nf.Table
	if r.Chain != nil {
		t = r.Chain.Table
	}
	for _, e := range r.Exprs {
		exprCuts(e, t, env, &c)
	}
	c.protos = ruleProtos(r.Exprs)
	c.normalize()
	return c
}

// oneProto[p:p+1] is the protocol list of a rule for protocol p alone.
var oneProto = func() []uint8 {
	out := make([]uint8, 256)
	for i := range out {
		out[i] = uint8(i)
	}
	return out
}()

// ruleProtos returns the protocols of the rule's first protocol test when
// only field matches and comments precede it (nothing with an effect or
// an assumption), or nil.
func ruleProtos(es []nf.Expr) []uint8 {
	for _, e := range es {
		switch m := e.(type) {
		case *nf.FieldMatch:
			if m.Field != nf.FieldProto {
				continue
			}
			if m.Neg || m.Op != nf.OpIn || m.Mask != 0 || len(m.Values) == 0 {
				return nil
			}
			if v := m.Values[0]; len(m.Values) == 1 && v.Kind == nf.ValInt && v.Lo == v.Hi && v.Lo <= 255 {
				return oneProto[v.Lo : v.Lo+1 : v.Lo+1]
			}
			out := []uint8{}
			for _, v := range m.Values {
				if v.Kind != nf.ValInt || v.Lo != v.Hi || v.Lo > 255 {
					return nil
				}
				out = append(out, uint8(v.Lo))
			}
			return out
		case *nf.CommentMatch:
		default:
			return nil
		}
	}
	return nil
}

// exprCuts adds the cuts of one expression. Expressions that read neither
// the destination port nor the source address add nothing; an expression
// of a type this package does not know splits every port (conservative).
func exprCuts(e nf.Expr, t *nf.Table, env *nf.Env, c *cuts) {
	switch m := e.(type) {
	case *nf.FieldMatch:
		fieldCuts(m, c)
	case *nf.SetMatch:
		setCuts(m.Keys, m.IPSetDirs, lookupSet(m.Anon, m.Set, t, env), c)
	case *nf.VMapExpr:
		setCuts(m.Keys, nil, lookupSet(m.Anon, m.Map, t, env), c)
	case *nf.AnyOf:
		for _, x := range m.Exprs {
			exprCuts(x, t, env, c)
		}
	case *nf.NotAll:
		for _, x := range m.Exprs {
			exprCuts(x, t, env, c)
		}
	case *nf.IfKnown:
		fieldCuts(m.Match, c)
	case *nf.NATStmt:
		natPortCuts(m.PortLo, m.PortHi, c)
		c.dstAny = c.dstAny || m.Kind == nf.NATRedirect
	case *nf.AddrTypeMatch:
		// Every local IPv4 address is LOCAL; relative to an interface, or
		// under IPv6's route-based rules, it depends on the address.
		c.dstAny = c.dstAny || m.Dst != 0 && (m.LimitIn || m.LimitOut || t == nil || t.Family != nf.FamilyIPv4)
	case *nftables.NATMap:
		natMapCuts(m, t, env, c)
	case *nf.StatisticMatch, *nf.StatefulMatch, *nf.CommentMatch, *nf.PhysdevMatch,
		*nf.MarkStmt, *nf.ConnmarkCopyStmt, *nf.NotrackStmt, *nf.NopStmt, *nf.UnknownTarget, nf.Const,
		*nf.VerdictExpr, *nftables.NumgenVMap, *nftables.NumgenMatch, *nftables.FlowOffload:
	default:
		opaqueCuts(e, c)
	}
}

// fieldCuts handles the one match kind that compares fields with constants.
func fieldCuts(m *nf.FieldMatch, c *cuts) {
	switch m.Field {
	case nf.FieldDPort, nf.FieldPorts, nf.FieldCTOrigDPort:
		intCuts(m, c)
	case nf.FieldSrc, nf.FieldCTOrigSrc:
		for _, v := range m.Values {
			c.addAddrs(v.AddrLo(), v.AddrHi())
		}
	case nf.FieldDst, nf.FieldCTOrigDst:
		for _, v := range m.Values {
			c.dsts = append(c.dsts, addrRange{v.AddrLo(), v.AddrHi()})
		}
	}
}

func intCuts(m *nf.FieldMatch, c *cuts) {
	if m.Mask != 0 || m.Op == nf.OpAnyBit {
		c.atom = true
		return
	}
	if m.Op != nf.OpIn {
		if len(m.Values) > 0 {
			compareCuts(m.Op, m.Values[0].Lo, c)
		}
		return
	}
	for _, v := range m.Values {
		c.addPorts(v.Lo, v.Hi)
	}
}

// compareCuts records a comparison with v: the ports below or above it.
func compareCuts(op nf.CmpOp, v uint64, c *cuts) {
	switch {
	case op == nf.OpLt && v > 0:
		c.addPorts(0, v-1)
	case op == nf.OpLe:
		c.addPorts(0, v)
	case op == nf.OpGt:
		c.addPorts(v+1, 65535)
	case op == nf.OpGe:
		c.addPorts(v, 65535)
	case op != nf.OpLt:
		c.addPorts(v, v)
	}
}

// lookupSet resolves a set as the simulator does: inline, the table's,
// then the environment's ipsets.
func lookupSet(anon *nf.Set, name string, t *nf.Table, env *nf.Env) *nf.Set {
	if anon != nil {
		return anon
	}
	if t != nil && t.Sets[name] != nil {
		return t.Sets[name]
	}
	if env != nil {
		return env.IPSets[name]
	}
	return nil
}

// setCuts adds the element boundaries of the key dimensions that read the
// destination port or the source address. For iptables -m set the
// dimension's field follows the ipset key type; both readings are taken.
func setCuts(keys []nf.Field, dirs []string, s *nf.Set, c *cuts) {
	if s == nil {
		return
	}
	n := len(keys)
	if len(dirs) > 0 {
		n = len(dirs)
	}
	for i := 0; i < n; i++ {
		port, src := dimReads(keys, dirs, i)
		for _, el := range s.Elements {
			if i >= len(el.Key) {
				continue
			}
			v := el.Key[i]
			if port && v.Kind == nf.ValInt {
				c.addPorts(v.Lo, v.Hi)
			}
			if src && v.Kind == nf.ValAddr {
				c.addAddrs(v.AddrLo(), v.AddrHi())
			}
			if !src && v.Kind == nf.ValAddr {
				c.dsts = append(c.dsts, addrRange{v.AddrLo(), v.AddrHi()})
			}
		}
	}
}

func dimReads(keys []nf.Field, dirs []string, i int) (port, src bool) {
	if len(dirs) > 0 {
		return dirs[i] == "dst", dirs[i] == "src"
	}
	f := keys[i]
	return f == nf.FieldDPort || f == nf.FieldPorts || f == nf.FieldCTOrigDPort, f == nf.FieldSrc || f == nf.FieldCTOrigSrc
}

// natPortCuts: a NAT port range keeps the packet's port inside it and maps
// every other port to its first port (nf_nat_core.c get_unique_tuple).
func natPortCuts(lo, hi uint16, c *cuts) {
	if lo != 0 {
		c.addPorts(uint64(lo), uint64(max(lo, hi)))
	}
}

func natMapCuts(m *nftables.NATMap, t *nf.Table, env *nf.Env, c *cuts) {
	natPortCuts(m.PortLo, m.PortHi, c)
	s := lookupSet(m.Anon, m.Map, t, env)
	if s == nil {
		return
	}
	if m.Numgen == nil {
		setCuts(m.Keys, nil, s, c)
	}
	for _, el := range s.Elements {
		if el.Data != nil && len(el.Data.Values) > 1 && el.Data.Values[1].Kind == nf.ValInt {
			natPortCuts(uint16(el.Data.Values[1].Lo), uint16(el.Data.Values[1].Hi), c)
		}
	}
}

var natStmtType = reflect.TypeOf((*nf.NATStmt)(nil))

// opaqueCuts handles expression types of other packages that are not
// exported: a wrapped *nf.NATStmt (nftables' family-restricted NAT) is
// read by reflection, flags and text are harmless; anything else splits
// every port.
func opaqueCuts(e nf.Expr, c *cuts) {
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		c.atom = true
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Type() == natStmtType && !f.IsNil():
			natPortCuts(uint16(f.Elem().FieldByName("PortLo").Uint()), uint16(f.Elem().FieldByName("PortHi").Uint()), c)
		case f.Kind() == reflect.Bool || f.Kind() == reflect.String || f.Kind() == reflect.Uint8:
		default:
			c.atom, c.dstAny = true, true
		}
	}
}

// chainPortCuts: a chain indexed on the destination port offers only the
// rules filed under the packet's port, so the rules of every other port
// never show up in a trace; their ports are cuts as soon as the chain is
// entered.
func chainPortCuts(ch *nf.Chain, rules []*cuts) *portIndex {
	if ch.Index() == nil || ch.Index().Field != nf.FieldDPort {
		return nil
	}
	var any []portRange
	by := map[uint8][]portRange{}
	atom := false
	for _, rc := range rules {
		if rc == nil {
			// No cuts: no port test either.
			continue
		}
		atom = atom || rc.atom
		if rc.protos == nil {
			any = append(any, rc.pranges...)
		}
		for _, p := range rc.protos {
			by[p] = append(by[p], rc.pranges...)
		}
	}
	ix := &portIndex{any: portAxis.newRangeList(any), by: map[uint8]rangeList[int32]{}, atom: atom}
	for p, rs := range by {
		ix.by[p] = portAxis.newRangeList(rs)
	}
	return ix
}

// portIndex is the port sets of an indexed chain's rules: of the rules
// for every protocol, and of those for one protocol only. atom: one of
// them splits every port apart.
type portIndex struct {
	any  rangeList[int32]
	by   map[uint8]rangeList[int32]
	atom bool
}
