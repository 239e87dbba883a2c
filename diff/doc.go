// Package diff compares two rulesets semantically, the way the kernel sees
// them rather than the way a text diff sees their dumps: tables and chains
// added, removed or emptied; rules inserted, deleted, moved or changed,
// matched by their position within the chain and by their identity (the
// expressions the front-end parsed them into, so `iptables -S`,
// iptables-save with or without counters and `iptables -L` spell the same
// rule the same); base chain policies and hooks; nftables sets and their
// elements. Every change names the component that wrote it (Docker,
// kube-proxy, the kubelet, OVN-Kubernetes, CNI plugins, netavark,
// firewalld, Calico, CRI-O, or the administrator) and the evidence for it.
//
// Rules of one chain are aligned with a longest common subsequence of their
// identities (Myers' O(ND) algorithm), the way iptables -I/-D/-R and nft
// insert/delete edit a chain: an insertion at position 1 is one insertion,
// not N changed lines. Rules the alignment leaves out on both sides are
// paired as moves (same identity) or changes (same slot, similar
// expressions); the rest are insertions and deletions.
//
// Nothing in this package does I/O; renderers take an io.Writer.
package diff
