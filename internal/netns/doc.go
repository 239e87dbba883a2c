// Package netns is a kernel lab for differential tests: it builds private network
// namespaces joined by veth pairs, loads rulesets with the real iptables and nft
// tools, injects hand-crafted packets and reads the kernel's per-rule counters and
// conntrack table, so that tests can compare the simulator with the kernel.
//
// Every Lab needs root and the ip, nsenter, iptables (legacy and nft), nft and
// conntrack tools; New skips the test otherwise. Namespaces are named
// "expo-<pid>-<rand>-<role>" and only those are deleted at cleanup.
//
// Packets are injected in-process: a goroutine locks its OS thread, enters the
// namespace with setns(2), opens a socket there and never unlocks, so the thread
// (the only one left in a foreign namespace) exits with the goroutine. Sockets stay
// bound to the namespace they were created in, whatever thread later uses them.
package netns
