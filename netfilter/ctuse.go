package netfilter

// ConntrackUser is implemented by expressions that need connection
// tracking. Loading one makes the kernel register nf_conntrack's hooks for
// the table's family in that network namespace (nf_ct_netns_get from the
// match's or target's checkentry, or the nft expression's init). Until then
// packets carry no conntrack entry and the nat chains are never run
// (nf_nat_inet_fn accepts packets without one) — measured on 6.18 by
// internal/netns TestConntrackEnabledBy.
type ConntrackUser interface {
	UsesConntrack() bool
}

// UsesConntrack implements ConntrackUser: matches on conntrack fields.
func (m *FieldMatch) UsesConntrack() bool {
	switch m.Field {
	case FieldCTState, FieldCTMark, FieldCTOrigSrc, FieldCTOrigDst, FieldCTOrigSPort, FieldCTOrigDPort, FieldCTStatus:
		return true
	}
	return false
}

// UsesConntrack implements ConntrackUser.
func (m *AnyOf) UsesConntrack() bool { return anyUsesConntrack(m.Exprs) }

// UsesConntrack implements ConntrackUser.
func (m *NotAll) UsesConntrack() bool { return anyUsesConntrack(m.Exprs) }

// UsesConntrack implements ConntrackUser: CONNMARK and ct mark set.
func (s *MarkStmt) UsesConntrack() bool { return s.Conn }

// UsesConntrack implements ConntrackUser.
func (s *ConnmarkCopyStmt) UsesConntrack() bool { return true }

// UsesConntrack implements ConntrackUser: every NAT target needs it.
func (s *NATStmt) UsesConntrack() bool { return true }

// UsesConntrack implements ConntrackUser: connlimit, connbytes, helper and
// conntrack options the simulator keeps opaque.
func (m *StatefulMatch) UsesConntrack() bool {
	switch m.Key {
	case "connlimit", "connbytes", "helper", "conntrack", "state", "connmark", "cluster":
		return true
	}
	return false
}

func anyUsesConntrack(es []Expr) bool {
	for _, e := range es {
		if u, ok := e.(ConntrackUser); ok && u.UsesConntrack() {
			return true
		}
	}
	return false
}

// UsesConntrack reports whether any rule of the table, reachable or not,
// needs connection tracking.
func (t *Table) UsesConntrack() bool {
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if anyUsesConntrack(r.Exprs) {
				return true
			}
		}
	}
	return false
}
