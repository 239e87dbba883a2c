// Package exposure computes what a remote scanner observes on every local
// address of a node: for TCP, UDP and SCTP ports 0–65535 and ICMP echo, per
// input interface and source class, the state in nmap's vocabulary (open,
// closed, filtered) plus forwarded (DNAT, REDIRECT or routing sends the
// packet elsewhere), why (the rule path the tracer follows), and who
// answers (the listening socket and its process, or the DNAT's owner).
//
// It does not simulate 65,536 packets per address. The port and source
// spaces are refined lazily into boxes no rule can tell apart: a
// representative packet is traced with a trace.Observer that reports every
// rule evaluated and every chain entered; the port and source sets those
// rules (and the chain indexes) test split the box into classes of members
// held by exactly the same sets (a class may span many intervals: the
// ports between NodePorts are one), and each class is traced again, until
// no evaluated rule tells the members of a box apart. By induction over
// the walk, every packet of a final box evaluates the same rules with the
// same results as its representative, so the answer equals per-port
// simulation (tested against it on random and real rulesets).
//
// The core is pure: the ruleset, node environment and listeners come in as
// values (package collect reads them from a node or a snapshot bundle).
package exposure
