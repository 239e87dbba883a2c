// Package trace simulates the Linux kernel on a netfilter.Ruleset: it walks
// one packet through the hooks it crosses, runs every base chain registered
// on each hook in priority order across all tables and families, keeps
// conntrack and NAT state the way nf_conntrack and nf_nat do for the first
// packet of a flow, and reports every rule whose matches held, every policy
// applied, and the packet's fate.
//
// Where the kernel's choice is random (statistic --mode random, numgen) the
// trace forks into outcomes with probabilities; where it depends on state
// the tool cannot see (limit, recent, unknown matches) it forks into
// outcomes marked with the assumption each one makes.
//
// The simulator does no I/O; randomness never enters it (forks enumerate
// every choice).
package trace
