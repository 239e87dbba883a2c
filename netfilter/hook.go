package netfilter

import "math"

// Hook is a netfilter hook (include/uapi/linux/netfilter.h, enum
// nf_inet_hooks). The order of the constants is the kernel's.
//
//	PREROUTING --> routing --> FORWARD --> POSTROUTING -->
//	                 |                         ^
//	                 v                         |
//	               INPUT --> local --> OUTPUT -+
type Hook uint8

// Hooks.
const (
	HookPrerouting Hook = iota
	HookInput
	HookForward
	HookOutput
	HookPostrouting
	HookIngress
	// NumHooks is the number of hooks; not a hook.
	NumHooks
)

var hookNames = [NumHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "INGRESS"}
var hookNftNames = [NumHooks]string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}

// String returns the iptables name of the hook (PREROUTING, ...).
func (h Hook) String() string {
	if h < NumHooks {
		return hookNames[h]
	}
	return "HOOK?"
}

// NftName returns the nft name of the hook (prerouting, ...).
func (h Hook) NftName() string {
	if h < NumHooks {
		return hookNftNames[h]
	}
	return "hook?"
}

// HookByName parses an iptables or nft hook name.
func HookByName(s string) (Hook, bool) {
	for h := Hook(0); h < NumHooks; h++ {
		if s == hookNames[h] || s == hookNftNames[h] {
			return h, true
		}
	}
	return 0, false
}

// Standard priorities (include/uapi/linux/netfilter_ipv4.h enum
// nf_ip_hook_priorities; the IPv6 values are the same). nft's named
// priorities raw, mangle, dstnat, filter, security, srcnat map to these for
// the ip, ip6 and inet families.
const (
	PriRaw          = -300
	PriSELinuxFirst = -225
	PriConntrack    = -200
	PriMangle       = -150
	PriNATDst       = -100
	PriFilter       = 0
	PriSecurity     = 50
	// PriSecurityNft is where iptables-nft puts the security table.
	PriSecurityNft      = 150
	PriNATSrc           = 100
	PriSELinuxLast      = 225
	PriConntrackHelper  = 300
	PriConntrackConfirm = math.MaxInt32
)

// ChainType is an nftables base chain type (filter, nat, route). iptables
// tables map to them: nat → nat, mangle OUTPUT → route, the rest → filter.
type ChainType string

// Chain types.
const (
	ChainTypeFilter ChainType = "filter"
	ChainTypeNAT    ChainType = "nat"
	ChainTypeRoute  ChainType = "route"
)

// IptablesTable describes one of the fixed iptables tables: which hooks its
// built-in chains sit on and at which priority, as ip_tables and
// ip6_tables register them (net/ipv4/netfilter/iptable_*.c).
type IptablesTable struct {
	Name     string
	Type     ChainType
	Priority int
	Hooks    []Hook
}

// IptablesTables are the tables iptables knows, in the order iptables-save
// lists... (the kernel has no order between tables; hooks order them by
// priority).
var IptablesTables = []IptablesTable{
	{"raw", ChainTypeFilter, PriRaw, []Hook{HookPrerouting, HookOutput}},
	{"mangle", ChainTypeFilter, PriMangle, []Hook{HookPrerouting, HookInput, HookForward, HookOutput, HookPostrouting}},
	{"nat", ChainTypeNAT, 0, []Hook{HookPrerouting, HookInput, HookOutput, HookPostrouting}},
	{"filter", ChainTypeFilter, PriFilter, []Hook{HookInput, HookForward, HookOutput}},
	{"security", ChainTypeFilter, PriSecurity, []Hook{HookInput, HookForward, HookOutput}},
}

// LookupIptablesTable returns the description of an iptables table.
func LookupIptablesTable(name string) (IptablesTable, bool) {
	for _, t := range IptablesTables {
		if t.Name == name {
			return t, true
		}
	}
	return IptablesTable{}, false
}

// NATPriority is the priority at which the nat table's chain for hook h is
// registered: destination NAT (-100) on PREROUTING and OUTPUT, source NAT
// (100) on INPUT and POSTROUTING (iptable_nat.c nf_nat_ipv4_ops).
func NATPriority(h Hook) int {
	if h == HookPrerouting || h == HookOutput {
		return PriNATDst
	}
	return PriNATSrc
}

// PriorityOn returns the priority of table t's built-in chain on hook h
// as ip_tables (legacy) registers it.
func (t IptablesTable) PriorityOn(h Hook) int { return t.PriorityFor(h, BackendLegacy) }

// PriorityFor returns the priority of table t's built-in chain on hook h
// as backend b registers it. iptables-nft registers the security table at
// 150, after the nat INPUT chain, where ip_tables uses NF_IP_PRI_SECURITY
// (50): seen in `nft list ruleset` after iptables-nft-restore (iptables
// 1.8.9) and in the kernel lab's counters.
func (t IptablesTable) PriorityFor(h Hook, b Backend) int {
	switch {
	case t.Type == ChainTypeNAT:
		return NATPriority(h)
	case t.Name == "security" && b == BackendIptablesNft:
		return PriSecurityNft
	}
	return t.Priority
}

// HasHook reports whether the table has a built-in chain on hook h.
func (t IptablesTable) HasHook(h Hook) bool {
	for _, x := range t.Hooks {
		if x == h {
			return true
		}
	}
	return false
}
