package netfilter

import (
	"fmt"
	"net/netip"
)

// MarkStmt sets the packet mark (MARK target, nft `meta mark set`) or the
// conntrack mark (CONNMARK --set-xmark, nft `ct mark set`) as
// mark = (mark & ^Mask) ^ Value, the form every MARK/CONNMARK option
// reduces to (xt_MARK.c mark_tg, xt_CONNMARK.c XT_CONNMARK_SET).
type MarkStmt struct {
	Value, Mask uint32
	Conn        bool
	Text        string
}

// Eval implements Expr.
func (s *MarkStmt) Eval(c *Ctx) Outcome {
	if s.Conn {
		if c.Pkt.CT.Attached && !c.Pkt.CT.Notrack {
			c.Pkt.CTMark = (c.Pkt.CTMark &^ s.Mask) ^ s.Value
		}
		return outNext
	}
	c.Pkt.Mark = (c.Pkt.Mark &^ s.Mask) ^ s.Value
	return outNext
}

func (s *MarkStmt) String() string {
	if s.Text != "" {
		return s.Text
	}
	what := "MARK"
	if s.Conn {
		what = "CONNMARK"
	}
	return fmt.Sprintf("%s --set-xmark 0x%x/0x%x", what, s.Value, s.Mask)
}

// ConnmarkCopyStmt is CONNMARK --save-mark (packet → conntrack) or
// --restore-mark (conntrack → packet) with its masks (xt_CONNMARK.c):
// save: ctmark = (ctmark & ^CTMask) ^ (mark & NFMask);
// restore: mark = (mark & ^NFMask) ^ (ctmark & CTMask).
type ConnmarkCopyStmt struct {
	Save           bool
	NFMask, CTMask uint32
	Text           string
}

// Eval implements Expr.
func (s *ConnmarkCopyStmt) Eval(c *Ctx) Outcome {
	p := c.Pkt
	if !p.CT.Attached || p.CT.Notrack {
		return outNext
	}
	if s.Save {
		p.CTMark = (p.CTMark &^ s.CTMask) ^ (p.Mark & s.NFMask)
	} else {
		p.Mark = (p.Mark &^ s.NFMask) ^ (p.CTMark & s.CTMask)
	}
	return outNext
}

func (s *ConnmarkCopyStmt) String() string { return s.Text }

// NotrackStmt is NOTRACK, CT --notrack and nft `notrack`: the packet will
// not be tracked, unless conntrack already saw it (xt_CT.c, nft_ct.c).
type NotrackStmt struct{ Text string }

// Eval implements Expr.
func (s *NotrackStmt) Eval(c *Ctx) Outcome {
	if !c.Pkt.CT.Attached {
		c.Pkt.CT.Notrack = true
	}
	return outNext
}

func (s *NotrackStmt) String() string {
	if s.Text != "" {
		return s.Text
	}
	return "NOTRACK"
}

// NopStmt is a statement that changes nothing the simulator models and lets
// evaluation go on: LOG, NFLOG, TRACE, counter, CHECKSUM, TCPMSS, DSCP,
// CT --zone/--helper, and the like (XT_CONTINUE targets).
type NopStmt struct{ Text string }

// Eval implements Expr.
func (s *NopStmt) Eval(*Ctx) Outcome { return outNext }

func (s *NopStmt) String() string { return s.Text }

// UnknownTarget is a target the tool does not know. Its effect cannot be
// told, so evaluation forks into "continues", "accepts" and "drops", each
// marked with that assumption, unless the user stated one with
// --assume target:NAME=continue|accept|drop.
type UnknownTarget struct {
	Name string
	Text string
}

// Eval implements Expr.
func (s *UnknownTarget) Eval(c *Ctx) Outcome {
	mk := func(v VerdictKind, word string) Branch {
		var then Expr = Const(true)
		if v != VerdictNone {
			then = &VerdictExpr{V: Verdict{Kind: v}}
		}
		return Branch{Assumption: fmt.Sprintf("unknown target %s assumed to %s", s.Name, word), Then: then}
	}
	return Outcome{Kind: OutFork, Branches: []Branch{
		mk(VerdictNone, "continue"), mk(VerdictAccept, "accept"), mk(VerdictDrop, "drop"),
	}}
}

func (s *UnknownTarget) String() string { return s.Text }

// NATKind is the kind of address translation.
type NATKind uint8

// NAT kinds.
const (
	NATDNAT NATKind = iota
	NATSNAT
	NATMasquerade
	NATRedirect
)

var natNames = []string{"DNAT", "SNAT", "MASQUERADE", "REDIRECT"}

func (k NATKind) String() string { return natNames[k] }

// Dst reports whether the kind rewrites the destination.
func (k NATKind) Dst() bool { return k == NATDNAT || k == NATRedirect }

// NATStmt sets up a NAT binding and accepts, as the DNAT, SNAT, MASQUERADE
// and REDIRECT targets and nft's dnat/snat/masquerade/redirect statements
// do (they end the nat chain with NF_ACCEPT). Within an address range the
// kernel picks by a hash of the tuple; within a port range it keeps the
// packet's port when it lies in the range and the tuple is free, else takes
// the first free port (nf_nat_core.c get_unique_tuple).
//
// The address range is set with SetAddrs and read with AddrLo and AddrHi.
type NATStmt struct {
	// Fields are ordered for size (56 bytes: one per endpoint of a
	// kube-proxy dump); the addresses are kept compactly.
	lo, hi         addr128
	Text           string
	PortLo, PortHi uint16
	Kind           NATKind
	Random         bool
	Persistent     bool
	fam            uint8
}

// SetAddrs sets the address range lo..hi to map to; an invalid hi means
// lo alone, an invalid lo none (keep the address; ports only). Zones are
// dropped; hi should be of lo's family (one of the other family is taken
// as the last address of lo's family).
func (s *NATStmt) SetAddrs(lo, hi netip.Addr) {
	s.lo, s.hi, s.fam = compactRange(lo, hi)
}

// AddrLo returns the first address of the range, the zero Addr when the
// statement sets none.
func (s *NATStmt) AddrLo() netip.Addr { return s.lo.addr(s.fam) }

// AddrHi returns the last address of the range, the zero Addr when the
// statement sets none.
func (s *NATStmt) AddrHi() netip.Addr { return s.hi.addr(s.fam) }

// Eval implements Expr.
func (s *NATStmt) Eval(c *Ctx) Outcome {
	p := c.Pkt
	addr, note, ok := s.address(c)
	if !ok {
		return Outcome{Kind: OutVerdict, Verdict: Verdict{Kind: VerdictDrop}, Assumption: note}
	}
	if s.Kind.Dst() {
		if addr.IsValid() && addr != p.Dst {
			p.Dst, p.CT.DNAT = addr, true
		}
		if port, changed := s.port(p.DPort, p.Proto); changed {
			p.DPort, p.CT.DNAT = port, true
		}
		p.CT.DNATInit = true
	} else {
		if addr.IsValid() && addr != p.Src {
			p.Src, p.CT.SNAT = addr, true
		}
		if port, changed := s.port(p.SPort, p.Proto); changed {
			p.SPort, p.CT.SNAT = port, true
		}
		p.CT.SNATInit = true
	}
	return Outcome{Kind: OutVerdict, Verdict: Verdict{Kind: VerdictAccept}, Assumption: note}
}

// address returns the new address (invalid: keep), a note when a choice
// was assumed, and false when the kernel drops (no address to use).
func (s *NATStmt) address(c *Ctx) (netip.Addr, string, bool) {
	p := c.Pkt
	switch s.Kind {
	case NATMasquerade:
		a, ok := c.Env.PrimaryAddr(p.OutIface, p.Family)
		if !ok {
			return a, fmt.Sprintf("MASQUERADE: no address known for %q; source kept", p.OutIface), true
		}
		return a, "", true
	case NATRedirect:
		if c.Hook == HookOutput {
			if p.Family == IPv6 {
				return netip.IPv6Loopback(), "", true
			}
			return netip.AddrFrom4([4]byte{127, 0, 0, 1}), "", true
		}
		a, ok := c.Env.PrimaryAddr(p.InIface, p.Family)
		if !ok {
			if c.Env.IsLocal(p.Dst) {
				return p.Dst, fmt.Sprintf("REDIRECT: address of %q unknown; assumed %s", p.InIface, p.Dst), true
			}
			return a, fmt.Sprintf("REDIRECT: address of %q unknown", p.InIface), true
		}
		return a, "", true
	}
	if s.fam == famNone {
		return netip.Addr{}, "", true
	}
	lo := s.AddrLo()
	if s.hi != s.lo {
		return lo, fmt.Sprintf("%s: the kernel hashes the flow into %s-%s; assumed %s", s.Kind, lo, s.AddrHi(), lo), true
	}
	return lo, "", true
}

func (s *NATStmt) port(cur uint16, proto uint8) (uint16, bool) {
	if s.PortLo == 0 || !HasPorts(proto) {
		return cur, false
	}
	hi := max(s.PortHi, s.PortLo)
	if cur >= s.PortLo && cur <= hi {
		return cur, false
	}
	return s.PortLo, true
}

func (s *NATStmt) String() string {
	if s.Text != "" {
		return s.Text
	}
	return s.Kind.String()
}
