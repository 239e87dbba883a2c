package hygiene

import (
	"fmt"
	"sort"
	"strings"

	"github.com/exposure-audit/exposure/checks"
)

// expectation is a chain a running component keeps in some tables of each
// IP family it manages.
type expectation struct {
	id, title string
	who       Component
	// prefix marks the component's chains; a family holding any of them is
	// one the component manages.
	prefix   string
	tables   []string
	chain    string
	severity checks.Severity
	why      string
}

// canaryTables are the tables utiliptables.Monitor watches for the kubelet's
// and kube-proxy's canaries (pkg/util/iptables Monitor: mangle, nat, filter);
// a canary missing from one of them means that table was flushed.
var canaryTables = []string{"mangle", "nat", "filter"}

// expectations: the kubelet's and kube-proxy's canaries; kube-proxy's
// KUBE-SERVICES (iptables and IPVS modes; nftables mode writes table ip
// kube-proxy instead); OVN-Kubernetes' node chains (gateway init, iptables
// mode); dockerd's DOCKER-USER (created once at start, not repaired).
var expectations = []expectation{
	{"kubelet-canary", "The kubelet's canary chains are present", Kubelet, "KUBE-", canaryTables, "KUBE-KUBELET-CANARY", checks.Medium,
		"the kubelet's canary is gone: the table was flushed after it started (it resyncs within a minute), or makeIPTablesUtilChains is false"},
	{"kube-proxy-canary", "kube-proxy's canary chains are present", KubeProxy, "KUBE-", canaryTables, "KUBE-PROXY-CANARY", checks.Medium,
		"kube-proxy's canary is gone: the table was flushed and kube-proxy has not resynced yet"},
	{"kube-proxy-chains", "kube-proxy's service chains are present", KubeProxy, "KUBE-", []string{"nat"}, "KUBE-SERVICES", checks.High,
		"KUBE-SERVICES is missing while kube-proxy runs: Services and NodePorts do not work"},
	{"ovnk-chains", "OVN-Kubernetes' node chains are present", OVNK, "OVN-KUBE-", []string{"nat"}, "OVN-KUBE-NODEPORT", checks.High,
		"OVN-KUBE-NODEPORT is missing while ovnkube runs: NodePorts and external IPs break until ovnkube-node resyncs (or it uses nftables)"},
	{"docker-chains", "Docker's chains are present", Docker, "DOCKER", []string{"filter"}, "DOCKER-USER", checks.High,
		"DOCKER-USER is missing while dockerd runs: the ruleset was flushed and dockerd does not recreate its chains until restarted"},
}

// missing returns "family/table" for each table of each managed family
// lacking e.chain (any backend). The managed families are those holding a
// chain with e.prefix, else every family present.
func (e expectation) missing(s Snapshot) []string {
	fams := s.families(e.prefix)
	if len(fams) == 0 {
		fams = s.families("")
	}
	if len(fams) == 0 {
		fams = []string{"ipv4"}
	}
	var out []string
	for _, f := range fams {
		for _, t := range e.tables {
			if !s.hasChainIn(f, t, e.chain) {
				out = append(out, f+"/"+t)
			}
		}
	}
	return out
}

// Rules runs the rules-based checks on a snapshot. makeChains is the
// kubelet's makeIPTablesUtilChains ("" when unknown).
func Rules(s Snapshot, cs Components, makeChains string) []checks.Result {
	out := []checks.Result{flushed(s, cs)}
	for _, e := range expectations {
		out = append(out, expect(s, cs, e, makeChains))
	}
	return append(out, mixedBackends(s), adminRules(s))
}

func rulesResult(id, title string, sev checks.Severity) checks.Result {
	return checks.Result{ID: id, Group: "hygiene", Title: title, Severity: sev, Scored: true,
		Evidence: checks.Evidence{Layer: checks.LayerRules}}
}

// flushed fails when Kubernetes runs but the ruleset holds no Kubernetes
// chain at all (iptables -F -X, or a restore from a save file without them).
func flushed(s Snapshot, cs Components) checks.Result {
	r := rulesResult("ruleset-flushed", "The ruleset still holds the Kubernetes chains", checks.High)
	kube := append(s.chainsWithPrefix("KUBE-", "OVN-KUBE-"), s.nativeChains("kube-proxy", "ovn-kubernetes")...)
	r.Evidence.Actual = fmt.Sprintf("%d tables, %d rules, %d Kubernetes chains", len(s.Tables), s.ruleCount(), len(kube))
	r.Evidence.Expected = "KUBE-* chains while a Kubernetes component runs"
	switch {
	case !cs.Kubernetes():
		r.Status, r.Severity, r.Message = checks.Info, checks.Note, "no Kubernetes component found"
	case len(kube) == 0:
		r.Status = checks.Fail
		r.Message = "no KUBE-* or OVN-KUBE-* chain while " + owners(cs) + " runs: the ruleset was flushed or restored over"
		r.Remediation = "Find what flushed it (iptables.service, a script running iptables -F, a firewall reload), stop it, then restart kube-proxy/ovnkube and the kubelet to rebuild their rules."
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("%d Kubernetes chains present", len(kube))
	}
	return r
}

// expect checks one component's chain.
func expect(s Snapshot, cs Components, e expectation, makeChains string) checks.Result {
	r := rulesResult(e.id, e.title, e.severity)
	r.Evidence.Path = strings.Join(e.tables, ",") + "/" + e.chain
	r.Evidence.Expected = "present"
	gone := e.missing(s)
	present := len(gone) == 0
	r.Evidence.Actual = "present"
	if !present {
		r.Evidence.Actual = "missing in " + strings.Join(gone, ", ")
	}
	nftMode := e.who == KubeProxy && len(s.nativeChains("kube-proxy")) > 0
	switch {
	case !cs.Has(e.who):
		r.Status, r.Severity, r.Message = checks.Info, checks.Note, string(e.who)+" not found on the node"
	case !present && nftMode:
		r.Status, r.Message = checks.Pass, "kube-proxy runs in nftables mode (table kube-proxy present); it keeps no iptables chains"
	case present:
		r.Status, r.Message = checks.Pass, e.chain+" present while "+string(e.who)+" runs ("+cs[e.who]+")"
	case e.who == Kubelet && makeChains == "false":
		r.Status, r.Severity, r.Message = checks.Info, checks.Note, "not expected: makeIPTablesUtilChains is false"
	case strings.HasSuffix(e.id, "canary"):
		r.Status, r.Message = checks.Warn, e.why
	default:
		r.Status, r.Message = checks.Fail, e.why
		r.Remediation = "Restart " + string(e.who) + " to rebuild its rules, and stop whatever flushed them."
	}
	return r
}

// mixedBackends warns when rules live in both iptables-legacy and
// iptables-nft for the same family: the kernel runs both, and each tool,
// and each component, sees only half.
func mixedBackends(s Snapshot) checks.Result {
	r := rulesResult("mixed-backends", "Only one iptables backend holds rules", checks.Medium)
	r.Evidence.Expected = "rules in one backend per family"
	used := map[string]map[Backend]int{}
	for _, t := range s.Tables {
		if len(t.Rules) == 0 || t.Backend == "" {
			continue
		}
		if used[t.Family] == nil {
			used[t.Family] = map[Backend]int{}
		}
		used[t.Family][t.Backend] += len(t.Rules)
	}
	var mixed []string
	for fam, b := range used {
		if b[Legacy] > 0 && b[NFT] > 0 {
			mixed = append(mixed, fmt.Sprintf("%s: %d legacy and %d nf_tables rules", fam, b[Legacy], b[NFT]))
		}
	}
	sort.Strings(mixed)
	if len(mixed) == 0 {
		r.Status, r.Message = checks.Pass, "no family has rules in both backends"
		r.Evidence.Actual = "one backend"
		return r
	}
	r.Status, r.Evidence.Actual = checks.Warn, strings.Join(mixed, "; ")
	r.Message = "iptables-legacy and iptables-nft both hold rules: the kernel evaluates both, each iptables binary shows only its own, and components may disagree on which one they write"
	r.Remediation = "Make every component use one backend (the host's iptables alternative, kube-proxy's and the CNI's images), then flush the unused backend's tables."
	return r
}

// adminRules finds rules no known component wrote, placed in built-in chains
// or in Docker's DOCKER chain, where components insert, reorder and flush.
func adminRules(s Snapshot) checks.Result {
	r := rulesResult("admin-rules", "Admin rules sit in the chains reserved for them", checks.Low)
	var found []Rule
	for _, t := range s.Tables {
		if t.Backend == Native {
			continue
		}
		fw := hasOwner(t, "firewalld")
		for _, rule := range t.Rules {
			if misplaced(rule, fw) {
				found = append(found, rule)
			}
		}
	}
	dest := adminChain(s)
	r.Evidence.Expected = "admin rules only in " + dest
	if len(found) == 0 {
		r.Status, r.Message, r.Evidence.Actual = checks.Pass, "no unattributed rule in built-in or component chains", "none"
		return r
	}
	r.Evidence.Path = ruleRef(found[0])
	r.Evidence.Actual = describeRules(found)
	r.Message = fmt.Sprintf("%d rule(s) not written by a known component sit in built-in or component-owned chains", len(found))
	r.Remediation = "Move them to " + dest + "; components insert their jumps ahead of them, and iptables.service or a component resync may remove them."
	r.Status = checks.Info
	if dest != "a chain of your own" {
		r.Status, r.Severity = checks.Warn, checks.Medium
	}
	return r
}

// misplaced reports an admin rule in a built-in chain, or a rule in DOCKER
// that does not have dockerd's shape.
func misplaced(r Rule, firewalld bool) bool {
	switch {
	case IsBuiltin(r.Chain):
		return writer(r, firewalld) == ""
	case r.Chain == "DOCKER":
		return !dockerOwnRule(r)
	}
	return false
}

// adminChain names where admin rules belong on this node.
func adminChain(s Snapshot) string {
	switch {
	case s.HasChain("filter", "OPENSHIFT-ADMIN-OUTPUT-RULES"):
		return "OPENSHIFT-ADMIN-OUTPUT-RULES"
	case s.HasChain("filter", "DOCKER-USER"):
		return "DOCKER-USER"
	}
	return "a chain of your own"
}

func describeRules(rs []Rule) string {
	var parts []string
	for i, r := range rs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("… %d more", len(rs)-3))
			break
		}
		parts = append(parts, ruleRef(r)+": "+r.Text)
	}
	return strings.Join(parts, "; ")
}

// hasOwner reports whether table t has a chain owned by component o.
func hasOwner(t Table, o string) bool {
	for _, c := range t.Chains {
		if owner(c) == o {
			return true
		}
	}
	return false
}
