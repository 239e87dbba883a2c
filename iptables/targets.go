package iptables

import (
	"fmt"
	"net/netip"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// continueTargets are targets that change nothing the simulator models and
// return XT_CONTINUE.
var continueTargets = map[string]bool{
	"LOG": true, "NFLOG": true, "ULOG": true, "TRACE": true, "CHECKSUM": true, "TCPMSS": true,
	"DSCP": true, "TOS": true, "CLASSIFY": true, "SECMARK": true, "CONNSECMARK": true,
	"IDLETIMER": true, "AUDIT": true, "LED": true, "RATEEST": true, "TEE": true, "SET": true,
	"HL": true, "ECN": true, "TCPOPTSTRIP": true, "HMARK": false,
}

// buildTarget turns -j NAME [options] into the rule's final expression.
// Names that are not targets the package knows are user chains; Validate
// reports those that do not exist.
func buildTarget(name string, opts []opt, fam nf.IPFamily, isGoto bool, userChain func(string) bool) (nf.Expr, error) {
	return buildTargetText(name, opts, fam, isGoto, userChain, "", nil)
}

// buildTargetText is buildTarget with the target's source text ("DNAT
// --to-destination ..."), which statements keep; "" rebuilds it from the
// options. Jumps and NAT statements, which most rules of a large dump end
// with, come from slab when there is one.
func buildTargetText(name string, opts []opt, fam nf.IPFamily, isGoto bool, userChain func(string) bool, text string, slab *exprSlab) (nf.Expr, error) {
	if text == "" {
		text = targetText(name, opts)
	}
	if isGoto {
		return slab.verdict(nf.Verdict{Kind: nf.VerdictGoto, Chain: name}), nil
	}
	switch name {
	case "ACCEPT":
		return &nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictAccept}}, nil
	case "DROP":
		return &nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictDrop}}, nil
	case "RETURN":
		return &nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictReturn}}, nil
	case "QUEUE", "NFQUEUE":
		return queueTarget(opts), nil
	case "REJECT":
		return rejectTarget(opts, fam)
	case "MARK", "CONNMARK":
		return markTarget(name, opts, text)
	case "DNAT", "SNAT", "MASQUERADE", "REDIRECT":
		return natTarget(name, opts, fam, text, slab)
	case "NOTRACK":
		return &nf.NotrackStmt{Text: text}, nil
	case "CT":
		for _, o := range opts {
			if o.name == "--notrack" {
				return &nf.NotrackStmt{Text: text}, nil
			}
		}
		return &nf.NopStmt{Text: text}, nil
	case "TTL":
		return &nf.NopStmt{Text: text}, nil
	}
	if continueTargets[name] {
		return &nf.NopStmt{Text: text}, nil
	}
	// Anything else without options is a jump to a user chain (Validate
	// reports a missing one); with options it is a target we do not know.
	if len(opts) == 0 || (userChain != nil && userChain(name)) {
		return slab.verdict(nf.Verdict{Kind: nf.VerdictJump, Chain: name}), nil
	}
	return &nf.UnknownTarget{Name: name, Text: text}, nil
}

func targetText(name string, opts []opt) string {
	s := name
	for _, o := range opts {
		s += " " + optText(o)
	}
	return s
}

func queueTarget(opts []opt) nf.Expr {
	v := nf.Verdict{Kind: nf.VerdictQueue}
	for _, o := range opts {
		if o.name == "--queue-bypass" {
			v.QueueBypass = true
		}
		if o.name == "--queue-num" && len(o.args) == 1 {
			n, _ := parseUint(o.args[0], 16)
			v.QueueNum = uint16(n)
		}
	}
	return &nf.VerdictExpr{V: v}
}

// rejectAliases6 are ip6tables' short --reject-with spellings that mean
// another reply than iptables' (looked up before rejectAliases).
var rejectAliases6 = map[string]string{"port-unreach": "icmp6-port-unreachable"}

// rejectAliases maps the short --reject-with spellings to the names
// iptables-save prints.
var rejectAliases = map[string]string{
	"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
	"port-unreach": "icmp-port-unreachable", "proto-unreach": "icmp-proto-unreachable",
	"net-prohib": "icmp-net-prohibited", "host-prohib": "icmp-host-prohibited",
	"admin-prohib": "icmp-admin-prohibited", "tcp-rst": "tcp-reset",
	"no-route": "icmp6-no-route", "adm-prohibited": "icmp6-adm-prohibited",
	"addr-unreach": "icmp6-addr-unreachable", "icmp6-port-unreach": "icmp6-port-unreachable",
}

func rejectTarget(opts []opt, fam nf.IPFamily) (nf.Expr, error) {
	with := nf.RejectICMPPortUnreachable
	if fam == nf.IPv6 {
		with = nf.RejectICMP6PortUnreachable
	}
	for _, o := range opts {
		if o.name == "--reject-with" && len(o.args) == 1 {
			name := o.args[0]
			if a, ok := rejectAliases6[name]; ok && fam == nf.IPv6 {
				name = a
			} else if a, ok := rejectAliases[name]; ok {
				name = a
			}
			var ok bool
			if with, ok = nf.ParseRejectType(name); !ok {
				return nil, fmt.Errorf("unknown --reject-with type %q", o.args[0])
			}
		}
	}
	return &nf.VerdictExpr{V: nf.Verdict{Kind: nf.VerdictReject, RejectWith: with}}, nil
}

// markTarget reduces every MARK/CONNMARK option to mark = (mark & ^mask) ^
// value, as libxt_MARK.c and libxt_CONNMARK.c do before handing it to the
// kernel.
func markTarget(name string, opts []opt, text string) (nf.Expr, error) {
	conn := name == "CONNMARK"
	nfmask, ctmask := uint32(0xffffffff), uint32(0xffffffff)
	var st nf.Expr
	for _, o := range opts {
		switch o.name {
		case "--save-mark", "--restore-mark":
			st = &nf.ConnmarkCopyStmt{Save: o.name == "--save-mark", Text: text}
			continue
		case "--nfmask", "--ctmask", "--mask":
			a, err := one(o)
			if err != nil {
				return nil, err
			}
			n, err := parseUint(a, 32)
			if err != nil {
				return nil, err
			}
			if o.name != "--ctmask" {
				nfmask = uint32(n)
			}
			if o.name != "--nfmask" {
				ctmask = uint32(n)
			}
			continue
		}
		s, err := markOption(o, conn, text)
		if err != nil {
			return nil, err
		}
		st = s
	}
	if cp, ok := st.(*nf.ConnmarkCopyStmt); ok {
		cp.NFMask, cp.CTMask = nfmask, ctmask
	}
	if st == nil {
		return nil, fmt.Errorf("%s needs an option", name)
	}
	return st, nil
}

func markOption(o opt, conn bool, text string) (nf.Expr, error) {
	a, err := one(o)
	if err != nil {
		return nil, err
	}
	v, m, _, err := parseValueMask(a)
	if err != nil {
		return nil, err
	}
	s := &nf.MarkStmt{Conn: conn, Text: text}
	switch o.name {
	case "--set-xmark":
		s.Value, s.Mask = v, m
	case "--set-mark":
		s.Value, s.Mask = v, m|v
	case "--and-mark":
		s.Value, s.Mask = 0, ^v
	case "--or-mark":
		s.Value, s.Mask = v, v
	case "--xor-mark":
		s.Value, s.Mask = v, 0
	default:
		return nil, fmt.Errorf("unknown %s option %s", map[bool]string{false: "MARK", true: "CONNMARK"}[conn], o.name)
	}
	return s, nil
}

func natTarget(name string, opts []opt, fam nf.IPFamily, text string, slab *exprSlab) (nf.Expr, error) {
	var kind nf.NATKind
	switch name {
	case "DNAT":
		kind = nf.NATDNAT
	case "SNAT":
		kind = nf.NATSNAT
	case "MASQUERADE":
		kind = nf.NATMasquerade
	case "REDIRECT":
		kind = nf.NATRedirect
	}
	s := slab.nat()
	*s = nf.NATStmt{Kind: kind, Text: text}
	for _, o := range opts {
		switch o.name {
		case "--to-destination", "--to-source", "--to":
			a, err := one(o)
			if err != nil {
				return nil, err
			}
			if err := parseNATRange(a, fam, s); err != nil {
				return nil, err
			}
		case "--to-ports", "--to-port":
			a, err := one(o)
			if err != nil {
				return nil, err
			}
			v, err := parsePortRange(a)
			if err != nil {
				return nil, err
			}
			s.PortLo, s.PortHi = uint16(v.Lo), uint16(v.Hi)
		case "--random", "--random-fully":
			s.Random = true
		case "--persistent":
			s.Persistent = true
		}
	}
	if (kind == nf.NATDNAT || kind == nf.NATSNAT) && !s.AddrLo().IsValid() && s.PortLo == 0 {
		return nil, fmt.Errorf("%s needs --to-%s", name, map[bool]string{true: "destination", false: "source"}[kind == nf.NATDNAT])
	}
	return s, nil
}

// parseNATRange reads [addr[-addr]][:port[-port]], IPv6 addresses in
// brackets when a port follows.
func parseNATRange(a string, fam nf.IPFamily, s *nf.NATStmt) error {
	addrs, ports := a, ""
	if fam == nf.IPv6 {
		if strings.HasPrefix(a, "[") {
			end := strings.Index(a, "]")
			if end < 0 {
				return fmt.Errorf("invalid NAT range %q", a)
			}
			addrs, ports = a[1:end], strings.TrimPrefix(a[end+1:], ":")
			addrs = strings.ReplaceAll(addrs, "]-[", "-")
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		addrs, ports = a[:i], a[i+1:]
	}
	if addrs != "" {
		lo, hi, _ := strings.Cut(addrs, "-")
		l, err := netip.ParseAddr(lo)
		if err != nil {
			return fmt.Errorf("invalid NAT address %q", lo)
		}
		h := l
		if hi != "" {
			if h, err = netip.ParseAddr(hi); err != nil || h.Is4() != l.Is4() {
				return fmt.Errorf("invalid NAT address %q", hi)
			}
		}
		s.SetAddrs(l, h)
	}
	if ports != "" {
		ports, _, _ = strings.Cut(ports, "/")
		v, err := parsePortRange(strings.Replace(ports, "-", ":", 1))
		if err != nil {
			return err
		}
		s.PortLo, s.PortHi = uint16(v.Lo), uint16(v.Hi)
	}
	return nil
}
