// Package netfilter is the one model of a node's packet filtering that every
// front-end parses into and the simulator walks: address families, hooks and
// their priorities, tables, base and regular chains, rules made of
// expressions (matches, statements, verdicts), named sets, and the packet
// those rules look at.
//
// The model follows the kernel's structure rather than one tool's syntax.
// An iptables table (legacy or iptables-nft) is a Table whose built-in chains
// are base chains at the fixed priorities ip_tables registers them with
// (include/uapi/linux/netfilter_ipv4.h, NF_IP_PRI_*); an nftables table is a
// Table whose base chains carry the hook and priority `nft` declared. A rule
// is an ordered list of expressions evaluated left to right, as nft_do_chain
// runs a rule's expressions and ipt_do_table checks the IP header, then the
// matches, then the target.
//
// Nothing in this package does I/O.
package netfilter
