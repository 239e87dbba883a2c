// Package randrules generates random but valid iptables-restore rulesets (IPv4 or
// IPv6) and probes aimed at them, for differential tests of the simulator against
// the kernel lab in internal/netns.
//
// Generation is a pure function of a *rand.Rand the caller seeds and a Config: the
// same seed and Config give byte-identical text and the same probes. Every ruleset
// is accepted by both iptables-legacy-restore and iptables-nft-restore (tested):
// targets, matches and interface options appear only in tables and hooks where
// iptables and the kernel accept them, the chain graph has no loops and nests at
// most Config.MaxDepth user chains deep.
package randrules
