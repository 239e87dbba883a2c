package nftables

import (
	"fmt"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// NumgenVMap is `numgen random mod N [offset O] vmap { … }` (kube-proxy's
// endpoint choice): nft_ng_random_eval draws a value uniformly from
// [O, O+N) and the map turns it into a verdict. Evaluation forks into one
// branch per value, each with probability 1/N; a value without an element
// makes the rule not match (NFT_BREAK). Mode inc (nft_ng_inc_eval) depends
// on a counter the tool cannot see, so its branches carry that assumption.
type NumgenVMap struct {
	Mod, Offset uint32
	Inc         bool
	// Map names a verdict map of the table; Anon holds an inline one.
	Map  string
	Anon *nf.Set
	Text string
}

// Eval implements netfilter.Expr.
func (e *NumgenVMap) Eval(c *nf.Ctx) nf.Outcome {
	s := e.Anon
	if s == nil {
		s = c.Table.Sets[e.Map]
	}
	return numgenFork(e.Mod, e.Offset, e.Inc, func(v uint64) nf.Expr {
		if s == nil {
			return nf.Const(false)
		}
		i := s.Lookup([]nf.KeyVal{{Kind: nf.ValInt, Int: v}})
		if i < 0 || s.Elements[i].Data == nil || s.Elements[i].Data.Verdict == nil {
			return nf.Const(false)
		}
		return &nf.VerdictExpr{V: *s.Elements[i].Data.Verdict}
	})
}

// Verdicts lets netfilter.Validate resolve the jump and goto targets of an
// inline map (named maps are resolved through the table).
func (e *NumgenVMap) Verdicts() []*nf.Verdict {
	var out []*nf.Verdict
	if e.Anon != nil {
		for i := range e.Anon.Elements {
			if d := e.Anon.Elements[i].Data; d != nil && d.Verdict != nil {
				out = append(out, d.Verdict)
			}
		}
	}
	return out
}

// String renders the expression as nft prints it.
func (e *NumgenVMap) String() string { return e.Text }

// numgenFork builds the fork of a numgen draw: one branch per value.
func numgenFork(mod, offset uint32, inc bool, then func(uint64) nf.Expr) nf.Outcome {
	mod = max(mod, 1)
	bs := make([]nf.Branch, 0, mod)
	for v := uint64(offset); v < uint64(offset)+uint64(mod); v++ {
		b := nf.Branch{Prob: 1 / float64(mod), Then: then(v)}
		if inc {
			b.Assumption = fmt.Sprintf("numgen inc drew %d (its counter is not visible)", v)
		}
		bs = append(bs, b)
	}
	return nf.Outcome{Kind: nf.OutFork, Branches: bs}
}

// NumgenMatch is a comparison of `numgen random mod N` with constants:
// it holds with the probability that the drawn value is among them.
type NumgenMatch struct {
	Mod, Offset uint32
	Inc         bool
	Values      []nf.Value
	Neg         bool
	Text        string
}

// Eval implements netfilter.Expr.
func (m *NumgenMatch) Eval(*nf.Ctx) nf.Outcome {
	return numgenFork(m.Mod, m.Offset, m.Inc, func(v uint64) nf.Expr {
		in := false
		for _, x := range m.Values {
			in = in || x.ContainsInt(v)
		}
		return nf.Const(in != m.Neg)
	})
}

// String renders the expression as nft prints it.
func (m *NumgenMatch) String() string { return m.Text }

// NATMap is a NAT statement whose address (and port) come from a map
// lookup: `dnat ip to ip daddr . meta l4proto . th dport map @hostipports`
// (CRI-O hostports) or `dnat to numgen random mod 2 map { 0 : a, 1 : b }`.
// A key without an element breaks the rule (nft_lookup sets NFT_BREAK), so
// the rule does not match; otherwise the NAT statement built from the
// element runs.
type NATMap struct {
	Kind nf.NATKind
	// Family restricts an inet-table statement to one family (0: both):
	// nft_nat_inet_eval does nothing for a packet of the other family.
	Family nf.IPFamily
	Keys   []nf.Field
	// Numgen, when set, draws the key instead of reading packet fields.
	Numgen *NumgenMatch
	Map    string
	Anon   *nf.Set
	// Port is a fixed port range when the map gives only addresses.
	PortLo, PortHi uint16
	Random         bool
	Text           string
}

// Eval implements netfilter.Expr.
func (s *NATMap) Eval(c *nf.Ctx) nf.Outcome {
	if s.Family != 0 && s.Family != c.Pkt.Family {
		return nf.Outcome{Kind: nf.OutNext}
	}
	set := s.Anon
	if set == nil {
		set = c.Table.Sets[s.Map]
	}
	if s.Numgen != nil {
		return numgenFork(s.Numgen.Mod, s.Numgen.Offset, s.Numgen.Inc, func(v uint64) nf.Expr {
			return s.stmtFor(set, []nf.KeyVal{{Kind: nf.ValInt, Int: v}})
		})
	}
	keys := make([]nf.KeyVal, len(s.Keys))
	for i, f := range s.Keys {
		k, ok := c.Pkt.Key(f)
		if !ok {
			return nf.Outcome{Kind: nf.OutNoMatch}
		}
		keys[i] = k
	}
	return s.stmtFor(set, keys).Eval(c)
}

// stmtFor returns the NAT statement for the element under keys, or a
// failing match when there is none.
func (s *NATMap) stmtFor(set *nf.Set, keys []nf.KeyVal) nf.Expr {
	if set == nil {
		return nf.Const(false)
	}
	i := set.Lookup(keys)
	if i < 0 || set.Elements[i].Data == nil || len(set.Elements[i].Data.Values) == 0 {
		return nf.Const(false)
	}
	vals := set.Elements[i].Data.Values
	st := &nf.NATStmt{Kind: s.Kind, PortLo: s.PortLo, PortHi: s.PortHi, Random: s.Random, Text: s.Text}
	st.SetAddrs(vals[0].AddrLo(), vals[0].AddrHi())
	if len(vals) > 1 && vals[1].Kind == nf.ValInt {
		st.PortLo, st.PortHi = uint16(vals[1].Lo), uint16(vals[1].Hi)
	}
	return st
}

// String renders the expression as nft prints it.
func (s *NATMap) String() string { return s.Text }

// familyNAT restricts a NAT statement of an inet table that names a family
// (`dnat ip to …`) to packets of that family; for the other family the
// statement does nothing and the rule goes on (nft_nat_inet_eval).
type familyNAT struct {
	family nf.IPFamily
	stmt   *nf.NATStmt
}

// Eval implements netfilter.Expr.
func (s *familyNAT) Eval(c *nf.Ctx) nf.Outcome {
	if c.Pkt.Family != s.family {
		return nf.Outcome{Kind: nf.OutNext}
	}
	return s.stmt.Eval(c)
}

func (s *familyNAT) String() string { return s.stmt.String() }

// FlowOffload is `flow add @ft` (`flow offload @ft`): it adds an
// established flow to a flowtable, after which its packets bypass the
// hooks (nft_flow_offload_eval offloads only when the conntrack entry is
// established and both directions have been seen). The first packet of a
// flow, which the simulator traces, is never offloaded, so it continues.
type FlowOffload struct{ Table, Text string }

// Eval implements netfilter.Expr.
func (s *FlowOffload) Eval(*nf.Ctx) nf.Outcome { return nf.Outcome{Kind: nf.OutNext} }

// String renders the expression as nft prints it.
func (s *FlowOffload) String() string { return s.Text }

// ctDirection is `ct direction original|reply`: without a conntrack entry
// the rule breaks; the simulator traces packets in the original direction.
type ctDirection struct {
	reply, neg bool
	text       string
}

// Eval implements netfilter.Expr.
func (m *ctDirection) Eval(c *nf.Ctx) nf.Outcome {
	if !c.Pkt.CT.Attached || c.Pkt.CT.Notrack {
		return nf.Outcome{Kind: nf.OutNoMatch}
	}
	if m.reply != m.neg {
		return nf.Outcome{Kind: nf.OutNoMatch}
	}
	return nf.Outcome{Kind: nf.OutNext}
}

func (m *ctDirection) String() string { return m.text }

// unknownMatch is an expression the tool does not model: it forks into
// "held" and "did not hold", unless the user assumed a result.
func unknownMatch(name, text string) nf.Expr {
	return &nf.StatefulMatch{Key: "unknown:" + strings.ReplaceAll(name, " ", "-"), Text: text}
}

// UsesConntrack reports that the NAT expression needs conntrack
// (nft_nat_init takes a conntrack reference with nf_ct_netns_get).
func (s *NATMap) UsesConntrack() bool { return true }

// UsesConntrack implements netfilter.ConntrackUser.
func (s *familyNAT) UsesConntrack() bool { return true }

// UsesConntrack implements netfilter.ConntrackUser (nft_ct_get_init).
func (m *ctDirection) UsesConntrack() bool { return true }
