package diff

import (
	"fmt"
	"net/netip"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// bridgeWriters are the components that own a container subnet behind a
// bridge. Their rules in shared chains often name no interface or chain of
// theirs: Docker's hairpin masquerade `-A POSTROUTING -s 172.17.0.2/32 -d
// 172.17.0.2/32 -p tcp --dport 80 -j MASQUERADE` is recognised by its
// addresses lying in 172.17.0.0/16, the subnet Docker's `-s 172.17.0.0/16
// ! -o docker0 -j MASQUERADE` ties to docker0.
var bridgeWriters = map[Writer]bool{WriterDocker: true, WriterNetavark: true, WriterCNI: true}

// subnet is a container subnet some component's rules name.
type subnet struct {
	lo, hi    netip.Addr
	prefix    string
	writer    Writer
	ambiguous bool
	via       string
}

// attributor attributes rules, knowing the container subnets of both
// rulesets.
type attributor struct {
	subnets []*subnet
}

// newAttributor learns, from every rule a bridge-owning component wrote
// (identified by chain, jump, comment or interface), the subnets those
// rules match on (non-negated source or destination prefixes, not single
// hosts, loopback, multicast or 0.0.0.0/0). A subnet two components claim
// is not used.
func newAttributor(rss ...*nf.Ruleset) *attributor {
	at := &attributor{}
	for _, rs := range rss {
		for _, t := range tablesOfRS(rs) {
			for _, c := range t.Chains {
				for _, r := range c.Rules {
					if a, ok := ruleWriter(t, c, r); ok && bridgeWriters[a.writer] {
						at.learn(r, a)
					}
				}
			}
		}
	}
	return at
}

func tablesOfRS(rs *nf.Ruleset) []*nf.Table {
	if rs == nil {
		return nil
	}
	return rs.Tables
}

func (at *attributor) learn(r *nf.Rule, a attribution) {
	for _, v := range addrValues(r) {
		lo := v.AddrLo()
		if v.Bits <= 0 || int(v.Bits) == lo.BitLen() || lo.IsLoopback() || lo.IsMulticast() {
			continue
		}
		p := v.String()
		if s := at.find(p); s != nil {
			s.ambiguous = s.ambiguous || s.writer != a.writer
			continue
		}
		at.subnets = append(at.subnets, &subnet{lo: lo, hi: v.AddrHi(), prefix: p, writer: a.writer, via: a.evidence})
	}
}

func (at *attributor) find(prefix string) *subnet {
	for _, s := range at.subnets {
		if s.prefix == prefix {
			return s
		}
	}
	return nil
}

// addrValues returns the non-negated source and destination values of a
// rule's matches.
func addrValues(r *nf.Rule) []nf.Value {
	var out []nf.Value
	for _, e := range r.Exprs {
		m, ok := e.(*nf.FieldMatch)
		if !ok || m.Neg || (m.Field != nf.FieldSrc && m.Field != nf.FieldDst) {
			continue
		}
		for _, v := range m.Values {
			if v.AddrLo().IsValid() {
				out = append(out, v)
			}
		}
	}
	return out
}

// rule attributes a rule: by its own signature (ruleWriter), else by the
// container subnet its addresses lie in, else to the administrator.
func (at *attributor) rule(t *nf.Table, c *nf.Chain, r *nf.Rule) attribution {
	if a, ok := ruleWriter(t, c, r); ok {
		return a
	}
	for _, v := range addrValues(r) {
		if s := at.containing(v); s != nil {
			return attribution{s.writer, fmt.Sprintf("address %s in %s, a subnet of %s's rules (%s)", v, s.prefix, s.writer, s.via)}
		}
	}
	return attribution{WriterAdmin, "no component's chain, jump target, comment, interface or subnet"}
}

// containing returns the narrowest unambiguous learned subnet holding v.
func (at *attributor) containing(v nf.Value) *subnet {
	var best *subnet
	lo, hi := v.AddrLo(), v.AddrHi()
	for _, s := range at.subnets {
		if s.ambiguous || s.lo.Is4() != lo.Is4() || lo.Less(s.lo) || s.hi.Less(hi) {
			continue
		}
		if best == nil || best.lo.Less(s.lo) || s.hi.Less(best.hi) {
			best = s
		}
	}
	return best
}
