package netfilter

// Family is a netfilter table family as nft names it (libnftables-json(5),
// "FAMILY"). iptables tables are FamilyIPv4 (iptables) or FamilyIPv6
// (ip6tables).
type Family string

// Families a table can belong to.
const (
	FamilyIPv4   Family = "ip"
	FamilyIPv6   Family = "ip6"
	FamilyInet   Family = "inet"
	FamilyARP    Family = "arp"
	FamilyBridge Family = "bridge"
	FamilyNetdev Family = "netdev"
)

// Sees reports whether a table of family f is traversed by IP packets of
// family ipf (4 or 6): ip and ip6 tables see their own family, inet tables
// see both (the kernel registers inet base chains on both the IPv4 and the
// IPv6 hooks). arp, bridge and netdev tables are not on the IP hooks this
// simulator models.
func (f Family) Sees(ipf IPFamily) bool {
	switch f {
	case FamilyIPv4:
		return ipf == IPv4
	case FamilyIPv6:
		return ipf == IPv6
	case FamilyInet:
		return true
	}
	return false
}

// IPFamily is the network-layer family of a packet.
type IPFamily uint8

// IP families.
const (
	IPv4 IPFamily = 4
	IPv6 IPFamily = 6
)

func (f IPFamily) String() string {
	if f == IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// Backend says which kernel subsystem holds a table, which decides how it
// is read live and how it coexists with the others (the kernel runs all of
// them).
type Backend string

// Backends.
const (
	// BackendLegacy: x_tables (ip_tables/ip6_tables), written by
	// iptables-legacy, read with iptables-legacy-save.
	BackendLegacy Backend = "iptables-legacy"
	// BackendIptablesNft: nf_tables tables written by iptables-nft in the
	// iptables compatibility layout, read with iptables-nft-save.
	BackendIptablesNft Backend = "iptables-nft"
	// BackendNft: native nf_tables tables written with nft or netlink.
	BackendNft Backend = "nftables"
	// BackendUnknown: an iptables dump whose flavour cannot be told.
	BackendUnknown Backend = "iptables"
)
