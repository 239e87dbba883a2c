package logs

import (
	"cmp"
	"slices"
	"strings"
)

// Rule is one port-bearing rule present on the node: a DNAT (or accept)
// rule with its chain, protocol, destination port(s) and address, target and
// DNAT destination, as iptables-save or nft list ruleset shows it.
type Rule struct {
	Chain  string
	Proto  string
	Port   int
	PortTo int
	Addr   string
	Target string // DNAT, ACCEPT, REDIRECT, …
	To     string // DNAT destination, "" otherwise
}

// FirewalldPort is a port firewalld's runtime configuration opens in a
// zone (firewall-cmd --zone=Z --list-ports, services resolved).
type FirewalldPort struct {
	Zone   string
	Proto  string
	Port   int
	PortTo int
}

// Socket is a listening socket (ss -tulnp).
type Socket struct {
	Proto   string
	Addr    string
	Port    int
	Process string
}

// NodeState is the node's current rules and sockets, from a snapshot bundle
// or the live node. FirewalldPorts and Sockets return nil when they were
// not captured (or firewalld is not running), which Reconcile reads as
// "unknown", not as "nothing open".
type NodeState interface {
	Rules() []Rule
	FirewalldPorts() []FirewalldPort
	Sockets() []Socket
}

// Finding is one disagreement between the logs and the node.
type Finding struct {
	Source Source `json:"source"`
	Proto  string `json:"proto"`
	Port   int    `json:"port"`
	PortTo int    `json:"port_to,omitempty"`
	Addr   string `json:"addr"`
	Zone   string `json:"zone"`
	Chain  string `json:"chain"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	// Last is the event that opened the port, for ports the logs opened.
	Last *Event `json:"last,omitempty"`
}

// Reconciliation compares what the logs say with what the node has.
type Reconciliation struct {
	// Missing are ports the logs opened that the node no longer has: a
	// flush, an iptables.service restart over Kubernetes' rules, a
	// component that died.
	Missing []Finding `json:"missing"`
	// Unexplained are rules of a known owner that no log event explains:
	// the log is incomplete (rotation, verbosity) or someone else made them.
	Unexplained []Finding `json:"unexplained"`
	// NotReloaded are permanent firewalld changes made after the last
	// reload: in the configuration, not in the rules.
	NotReloaded []PortState `json:"not_reloaded"`
}

// ownerOf maps a forwarding rule to the component that writes its chain:
// CRI-O's KUBE-HOSTPORTS/KUBE-HP-* (internal/hostport), OVN-Kubernetes'
// OVN-KUBE-NODEPORT/-EXTERNALIP/-ETP, Docker's DOCKER. Only DNAT rules and
// CRI-O's jumps to its per-port chains count: Docker's filter DOCKER chain
// accepts the forwarded traffic on the container port, which no log opens.
func ownerOf(r Rule) Source {
	if r.Target != "DNAT" && !strings.HasPrefix(r.Target, "KUBE-HP-") {
		return ""
	}
	return chainOwner(r.Chain)
}

// chainOwner maps a chain name to the component that writes it.
func chainOwner(chain string) Source {
	switch {
	case chain == "KUBE-HOSTPORTS" || strings.HasPrefix(chain, "KUBE-HP-"):
		return SourceCRIO
	case chain == "OVN-KUBE-NODEPORT" || chain == "OVN-KUBE-EXTERNALIP" || chain == "OVN-KUBE-ETP":
		return SourceOVNKube
	case chain == "DOCKER":
		return SourceDockerd
	}
	return ""
}

// Reconcile compares the state replayed from the logs with the node.
func Reconcile(st State, node NodeState) Reconciliation {
	rc := Reconciliation{Missing: []Finding{}, Unexplained: []Finding{}, NotReloaded: st.Pending}
	if rc.NotReloaded == nil {
		rc.NotReloaded = []PortState{}
	}
	rules, fw, socks := node.Rules(), node.FirewalldPorts(), node.Sockets()
	for _, p := range st.Ports {
		if reason, missing := absent(p, rules, fw, socks); missing {
			rc.Missing = append(rc.Missing, findingOf(p, reason))
		}
	}
	rc.Unexplained = append(rc.Unexplained, unexplainedRules(st.Ports, rules)...)
	rc.Unexplained = append(rc.Unexplained, unexplainedFirewalld(st.Ports, fw)...)
	sortFindings(rc.Missing)
	sortFindings(rc.Unexplained)
	return rc
}

// absent says whether an open port has lost its rule or socket.
func absent(p PortState, rules []Rule, fw []FirewalldPort, socks []Socket) (string, bool) {
	switch p.Source {
	case SourceFirewalld:
		if fw == nil {
			return "", false
		}
		ok := slices.ContainsFunc(fw, func(f FirewalldPort) bool {
			return f.Zone == p.Zone && f.Proto == p.Proto && f.Port == p.Port && f.PortTo == p.PortTo
		})
		return "firewalld's runtime configuration no longer opens it", !ok
	case SourceKubeProxy:
		if socks == nil {
			return "", false
		}
		ok := slices.ContainsFunc(socks, func(s Socket) bool { return s.Proto == p.Proto && s.Port == p.Port })
		return "no socket listens on it", !ok
	}
	ok := slices.ContainsFunc(rules, func(r Rule) bool { return ruleServes(r, p) })
	return "no rule forwards it any more", !ok
}

// ruleServes tells whether a node rule is the one a log event made.
func ruleServes(r Rule, p PortState) bool {
	if ownerOf(r) != p.Source || r.Proto != p.Proto || r.Port != p.Port {
		return false
	}
	return p.To == "" || r.To == "" || r.To == p.To
}

func unexplainedRules(open []PortState, rules []Rule) []Finding {
	var out []Finding
	for _, r := range rules {
		src := ownerOf(r)
		if src == "" || r.Port == 0 {
			continue
		}
		if slices.ContainsFunc(open, func(p PortState) bool { return ruleServes(r, p) }) {
			continue
		}
		out = append(out, Finding{Source: src, Proto: r.Proto, Port: r.Port, PortTo: r.PortTo, Addr: r.Addr,
			Chain: r.Chain, To: r.To, Reason: "rule present, no log event opened it"})
	}
	return out
}

func unexplainedFirewalld(open []PortState, fw []FirewalldPort) []Finding {
	var out []Finding
	for _, f := range fw {
		if slices.ContainsFunc(open, func(p PortState) bool {
			return p.Source == SourceFirewalld && p.Zone == f.Zone && p.Proto == f.Proto && p.Port == f.Port
		}) {
			continue
		}
		out = append(out, Finding{Source: SourceFirewalld, Proto: f.Proto, Port: f.Port, PortTo: f.PortTo,
			Zone: f.Zone, Reason: "open in firewalld, no log event opened it"})
	}
	return out
}

func findingOf(p PortState, reason string) Finding {
	last := p.Last
	return Finding{Source: p.Source, Proto: p.Proto, Port: p.Port, PortTo: p.PortTo, Addr: p.Addr, Zone: p.Zone,
		Chain: p.Chain, To: p.To, Reason: reason, Last: &last}
}

func sortFindings(f []Finding) {
	slices.SortFunc(f, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto),
			cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.To, b.To), cmp.Compare(a.Zone, b.Zone))
	})
}
