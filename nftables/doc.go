// Package nftables parses nftables rulesets into the netfilter model: the
// libnftables JSON that `nft -j list ruleset` prints (json_schema_version 1,
// libnftables-json(5)) and the text that `nft list ruleset` prints and
// `nft -f` loads (table blocks and `add`/`insert`/`flush` commands, as
// knftables writes them for kube-proxy and CRI-O).
//
// Both front-ends build the same intermediate tree, the JSON schema's
// objects (the text parser emits exactly what `nft -j` would print for the
// same rule), and one builder lowers that tree into netfilter expressions.
// Rules become the expressions nft_do_chain would run: payload, meta and ct
// comparisons become netfilter.FieldMatch with the protocol dependencies nft
// adds implicitly (`tcp dport` implies `meta l4proto tcp`; `ip saddr` in an
// inet table implies `meta nfproto ipv4`), set and map lookups become
// SetMatch / VMapExpr over the table's sets, and `numgen random mod N` forks
// with the exact probability of each value.
//
// Positions: text input carries file:line of each rule; JSON input, which
// nft prints on one line, carries the 1-based index of the object in the
// "nftables" array as the line.
package nftables
