// Package iptables parses iptables rulesets into the netfilter model:
// iptables-save / ip6tables-save output of both flavours (legacy and
// iptables-nft, with or without -c counters), `iptables -S` output, and
// `iptables -L -n -v` listings. It also prints a ruleset back in
// iptables-save form.
//
// Options are read the way iptables(8) and iptables-extensions(8) define
// them, and turned into expressions in the order the kernel evaluates
// them: the IP header checks of ip_packet_match, then the -m matches in
// order, then the target (net/ipv4/netfilter/ip_tables.c ipt_do_table).
package iptables
