// Package kubeproxy generates the netfilter rulesets kube-proxy v1.34 programs, deterministically, from a list of
// Services and a node description: iptables mode as iptables-save prints it back (IPTablesSave, IP6TablesSave;
// iptables-nft-save or iptables-legacy-save flavour) and nftables mode as `nft list ruleset` prints tables
// ip / ip6 kube-proxy (NFTRuleset, NFT6Ruleset), which `nft -f` loads.
//
// Shapes follow pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go of k8s.io/kubernetes v1.34.2
// and are checked line by line against real captures (testdata/corpus/kube-proxy, kube-proxy v1.32.13, whose
// iptables-mode rules are identical): chain names are the first 16 characters of
// base32(sha256(servicePortName+protocol[+endpoint])), probabilities are printed as iptables-save prints
// kube-proxy's `%0.10f` back (%.11f of the 2^31 fraction libxt_statistic stores), comments on per-endpoint rules
// are dropped above 1000 endpoints (large cluster mode).
//
// kube-proxy writes Services in Go map order; the generator writes them sorted by "ns/name:port", so outputs are
// reproducible. Scale builds a realistic Service mix of any size from a seed.
package kubeproxy
