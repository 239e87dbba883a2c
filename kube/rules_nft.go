package kube

import (
	"fmt"
	"net/netip"
	"strconv"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// nftKubeProxy reads kube-proxy's nftables-mode table: chains named after
// Service ports (a chain without rules is a leftover kube-proxy flushed
// and will delete at its next full sync: not a rule), the service-ips and
// service-nodeports maps, and the NodePort address restriction.
func (ri *ruleIndex) nftKubeProxy(t *nf.Table) {
	for _, c := range t.Chains {
		if c.Name == "services" {
			ri.nftServices(t, c)
		}
		m := nftChainRE.FindStringSubmatch(c.Name)
		if m == nil || len(c.Rules) == 0 {
			continue
		}
		s := ri.svc(svcKey{ns: m[2], name: m[3], port: m[5]})
		s.addChain(c.Name)
		s.proxied = true
		ri.families[t.Family] = true
		for _, r := range c.Rules {
			ri.nftChainRule(s, m[1], c, r)
		}
	}
	for _, name := range []string{"service-ips", "service-nodeports", "firewall-ips"} {
		if set := t.Sets[name]; set != nil {
			ri.nftServiceMap(t, set)
		}
	}
	for _, name := range []string{"no-endpoint-services", "no-endpoint-nodeports"} {
		if set := t.Sets[name]; set != nil {
			for _, el := range set.Elements {
				if k, ok := commentService(el.Comment); ok {
					ri.svc(k).addChain("map " + name)
				}
			}
		}
	}
}

// nftServices finds the rule that sends NodePorts to @service-nodeports
// and whether it restricts the destination (nodeport-ips).
func (ri *ruleIndex) nftServices(t *nf.Table, c *nf.Chain) {
	for _, r := range c.Rules {
		for _, e := range r.Exprs {
			v, ok := e.(*nf.VMapExpr)
			if ok && v.Map == "service-nodeports" && !dstRestricted(r) && t.Sets[v.Map] != nil && len(t.Sets[v.Map].Elements) > 0 {
				ri.allNodePorts = append(ri.allNodePorts, ruleText(t, c, r))
			}
		}
	}
}

// nftChainRule reads one rule of a Service port's chain.
func (ri *ruleIndex) nftChainRule(s *svcRules, kind string, c *nf.Chain, r *nf.Rule) {
	switch kind {
	case "endpoint":
		if to, ok := dnatTarget(r); ok {
			put(&s.targets, to, c.Name)
		}
	case "local":
		s.hasLocal = true
		for _, m := range nftJumpRE.FindAllStringSubmatch(r.Text, -1) {
			s.localJumps = append(s.localJumps, localJump{c.Table, c.Name, trimVerdictChain(m[1])})
		}
	}
}

// trimVerdictChain drops the "," or "}" an anonymous vmap puts after a
// chain name.
func trimVerdictChain(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ',' || s[len(s)-1] == '}') {
		s = s[:len(s)-1]
	}
	return s
}

// nftServiceMap reads service-ips (addr . proto . port), service-nodeports
// (proto . port) and firewall-ips elements: each goes to a Service port's
// chain.
func (ri *ruleIndex) nftServiceMap(t *nf.Table, set *nf.Set) {
	for _, el := range set.Elements {
		if el.Data == nil || el.Data.Verdict == nil {
			continue
		}
		m := nftChainRE.FindStringSubmatch(el.Data.Verdict.Chain)
		if m == nil {
			continue
		}
		s := ri.svc(svcKey{ns: m[2], name: m[3], port: m[5]})
		s.addChain("map " + set.Name)
		ev := fmt.Sprintf("%s %s map %s: %s", t.Family, t.Name, set.Name, elementText(set, el))
		switch {
		case set.Name == "service-nodeports" && len(el.Key) == 2:
			put(&s.nodePorts, protoName(el.Key[0].Lo)+"/"+strconv.FormatUint(el.Key[1].Lo, 10), ev)
		case len(el.Key) == 3 && el.Key[0].AddrLo().IsValid():
			put(&s.dests, el.Key[0].AddrLo().Unmap().String()+"/"+protoName(el.Key[1].Lo)+"/"+strconv.FormatUint(el.Key[2].Lo, 10), ev)
		}
	}
}

// elementText spells a map element for evidence.
func elementText(set *nf.Set, el nf.SetElement) string {
	s := ""
	for i, k := range el.Key {
		if i > 0 {
			s += " . "
		}
		switch {
		case k.AddrLo().IsValid():
			s += k.AddrLo().String()
		case i < len(set.KeyTypes) && set.KeyTypes[i] == "inet_proto":
			s += protoName(k.Lo)
		default:
			s += strconv.FormatUint(k.Lo, 10)
		}
	}
	if el.Data == nil {
		return s
	}
	if el.Data.Verdict != nil {
		return s + " : goto " + el.Data.Verdict.Chain
	}
	for i, v := range el.Data.Values {
		s += map[bool]string{true: " : ", false: " . "}[i == 0]
		if v.AddrLo().IsValid() {
			s += v.AddrLo().String()
		} else {
			s += strconv.FormatUint(v.Lo, 10)
		}
	}
	return s
}

// nftCRIO reads CRI-O's crio-hostports table: hostports (proto . port :
// podIP . podPort) and hostipports (hostIP . proto . port : ...) maps,
// each element's comment the sandbox's hash.
func (ri *ruleIndex) nftCRIO(t *nf.Table) {
	for _, name := range []string{"hostports", "hostipports"} {
		set := t.Sets[name]
		if set == nil {
			continue
		}
		for _, el := range set.Elements {
			if h, ok := crioElement(t, set, el); ok {
				ri.hostports = append(ri.hostports, h)
			}
		}
	}
}

// crioElement reads one CRI-O hostport map element.
func crioElement(t *nf.Table, set *nf.Set, el nf.SetElement) (hostportRule, bool) {
	key := el.Key
	h := hostportRule{container: el.Comment, evidence: fmt.Sprintf("%s %s map %s: %s", t.Family, t.Name, set.Name, elementText(set, el))}
	if len(key) == 3 && key[0].AddrLo().IsValid() {
		h.hostIP, key = key[0].AddrLo().Unmap(), key[1:]
	}
	if len(key) != 2 || el.Data == nil || len(el.Data.Values) != 2 || !el.Data.Values[0].AddrLo().IsValid() {
		return h, false
	}
	h.proto, h.hostPort = protoName(key[0].Lo), int(key[1].Lo)
	h.target = netip.AddrPortFrom(el.Data.Values[0].AddrLo().Unmap(), uint16(el.Data.Values[1].Lo))
	return h, true
}
