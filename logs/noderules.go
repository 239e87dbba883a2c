package logs

import (
	"net/netip"
	"regexp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// RulesetState is a NodeState read from a ruleset alone (iptables-save or
// nft dumps loaded into the netfilter model): it knows the rules, not
// firewalld's runtime configuration nor the sockets, which it reports as
// unknown (nil).
type RulesetState struct {
	rules []Rule
	fw    []FirewalldPort
}

// NewRulesetState lists the port-bearing rules of rs.
func NewRulesetState(rs *nf.Ruleset) *RulesetState {
	return &RulesetState{rules: RulesOf(rs), fw: FirewalldPortsOf(rs)}
}

// Rules returns the rules that match a destination port.
func (s *RulesetState) Rules() []Rule { return s.rules }

// FirewalldPorts are the ports firewalld's zone "allow" chains accept, or
// nil when the ruleset holds no firewalld chains (firewalld not running,
// or its table not captured).
func (s *RulesetState) FirewalldPorts() []FirewalldPort { return s.fw }

// firewalldAllow matches firewalld's per-zone allow chains: nftables
// backend "filter_IN_<zone>_allow" (1.x), iptables backend "IN_<zone>_allow".
var firewalldAllow = regexp.MustCompile(`^(?:filter_)?IN_(.+)_allow$`)

// FirewalldPortsOf lists the ports the runtime firewalld configuration
// opens, read from its zone allow chains (what `firewall-cmd --add-port`
// and `--add-service` become), or nil without firewalld chains.
func FirewalldPortsOf(rs *nf.Ruleset) []FirewalldPort {
	var out []FirewalldPort
	seen := false
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			m := firewalldAllow.FindStringSubmatch(c.Name)
			if m == nil || (t.Backend == nf.BackendNft && t.Name != "firewalld") {
				continue
			}
			seen = true
			for _, r := range c.Rules {
				if rule, ok := ruleOf(c.Name, r); ok && accepts(r) {
					out = append(out, FirewalldPort{Zone: m[1], Proto: rule.Proto, Port: rule.Port, PortTo: rule.PortTo})
				}
			}
		}
	}
	if seen && out == nil {
		out = []FirewalldPort{}
	}
	return out
}

// accepts tells whether a rule ends in an accept verdict.
func accepts(r *nf.Rule) bool {
	if len(r.Exprs) == 0 {
		return false
	}
	v, ok := r.Exprs[len(r.Exprs)-1].(*nf.VerdictExpr)
	return ok && v.V.Kind == nf.VerdictAccept
}

// Sockets are unknown from a ruleset: nil.
func (s *RulesetState) Sockets() []Socket { return nil }

// RulesOf lists every rule of rs that matches a destination port (-p tcp
// --dport 8080, nft "tcp dport 8080"), with its chain, protocol, port or
// range, single destination address, target, and DNAT destination. Negated
// matches are not a port or address the rule serves and are left out.
func RulesOf(rs *nf.Ruleset) []Rule {
	var out []Rule
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if rule, ok := ruleOf(c.Name, r); ok {
					out = append(out, rule)
				}
			}
		}
	}
	return out
}

func ruleOf(chain string, r *nf.Rule) (Rule, bool) {
	out := Rule{Chain: chain, Target: r.Target()}
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *nf.FieldMatch:
			fieldOf(&out, x)
		case *nf.NATStmt:
			if x.Kind == nf.NATDNAT && x.AddrLo().IsValid() {
				out.To = natTarget(x.AddrLo(), x.PortLo)
			}
		}
	}
	return out, out.Port != 0
}

// fieldOf reads the single-valued, non-negated protocol, port and address
// matches.
func fieldOf(r *Rule, m *nf.FieldMatch) {
	if m.Neg || len(m.Values) != 1 {
		return
	}
	v := m.Values[0]
	switch m.Field {
	case nf.FieldProto:
		r.Proto = nf.ProtoName(uint8(v.Lo))
	case nf.FieldDPort:
		r.Port = int(v.Lo)
		if v.Hi != v.Lo {
			r.PortTo = int(v.Hi)
		}
	case nf.FieldDst:
		if a := v.AddrLo(); a.IsValid() && v.IsSingle() {
			r.Addr = a.String()
		}
	}
}

// natTarget spells a DNAT destination as iptables prints it.
func natTarget(a netip.Addr, port uint16) string {
	if port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

var _ NodeState = (*RulesetState)(nil)
