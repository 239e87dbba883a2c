package diff

import (
	"regexp"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// attribution is a writer and what identified it.
type attribution struct {
	writer   Writer
	evidence string
}

// nftTableWriters are native nftables tables named by the component that
// owns them (knftables-style owners create and flush their own table).
var nftTableWriters = map[string]Writer{
	"firewalld":      WriterFirewalld, // firewalld nftables backend: inet/ip/ip6 firewalld
	"kube-proxy":     WriterKubeProxy, // kube-proxy --proxy-mode=nftables
	"netavark":       WriterNetavark,  // netavark firewall_driver=nftables
	"docker-bridges": WriterDocker,    // dockerd --firewall-backend=nftables (Docker 29)
	"calico":         WriterCalico,    // Calico nftables data plane
	"crio-hostports": WriterCRIO,      // CRI-O's nftables hostport manager
	"ovn-kubernetes": WriterOVNK,      // OVN-Kubernetes nftables rules
}

// kubeletChains are the chains the kubelet creates (pkg/kubelet
// kubelet_network_linux.go): since Kubernetes 1.28 only the hint and the
// canary unless --make-iptables-util-chains keeps KUBE-FIREWALL.
var kubeletChains = map[string]bool{"KUBE-FIREWALL": true, "KUBE-KUBELET-CANARY": true, "KUBE-IPTABLES-HINT": true}

// adminChains are chains a component creates for the administrator to
// fill: their rules are the administrator's, not the component's.
var adminChains = map[string]string{
	"DOCKER-USER":                  "DOCKER-USER, the chain Docker leaves to the administrator",
	"CNI-ADMIN":                    "CNI-ADMIN, the chain the CNI firewall plugin leaves to the administrator",
	"OPENSHIFT-ADMIN-OUTPUT-RULES": "OPENSHIFT-ADMIN-OUTPUT-RULES, the chain OpenShift leaves to the administrator",
}

// firewalldChain matches firewalld's iptables-backend chain names (and,
// after a "filter_"/"nat_"/... prefix, its nftables ones): the hook-level
// dispatch chains and the per-zone or per-policy chains IN_<zone>_allow,
// FWD_<zone>, PRE_<zone>_log, ...
var (
	firewalldHookChain = regexp.MustCompile(`^(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING)_(direct|ZONES|ZONES_SOURCE|POLICIES_pre|POLICIES_post|IN_ZONES|OUT_ZONES|IN_ZONES_SOURCE|OUT_ZONES_SOURCE)$`)
	firewalldZoneChain = regexp.MustCompile(`^(IN|FWD|FWDI|FWDO|PRE|POST|OUT)_(policy_)?(.+?)(_(allow|deny|log|pre|post|rich))?$`)
	dockerBridge       = regexp.MustCompile(`^(docker0|docker_gwbridge|br-[0-9a-f]{12})$`)
)

// chainWriter attributes a chain by its table and name.
func chainWriter(t *nf.Table, name string) (attribution, bool) {
	if t != nil && t.Backend == nf.BackendNft {
		if w, ok := nftTableWriters[t.Name]; ok {
			return attribution{w, "table " + t.String()}, true
		}
	}
	return chainNameWriter(name)
}

// otherPrefixes are the chain prefixes of other node network components:
// OpenShift SDN (pkg/network/node iptables.go), Cilium (pkg/datapath/
// iptables, with OLD_ copies during upgrades), flannel (FLANNEL-FWD,
// FLANNEL-POSTRTG), kube-router (its network policy and service chains,
// checked before kube-proxy's KUBE-), Weave Net, Antrea, Istio (istio-cni).
var otherPrefixes = []struct {
	prefix string
	writer Writer
}{
	{"OPENSHIFT-", WriterOpenShiftSDN},
	{"CILIUM_", WriterCilium}, {"OLD_CILIUM_", WriterCilium},
	{"FLANNEL-", WriterFlannel},
	{"KUBE-ROUTER-", WriterKubeRouter}, {"KUBE-NWPLCY-", WriterKubeRouter}, {"KUBE-POD-FW-", WriterKubeRouter},
	{"WEAVE", WriterWeave},
	{"ANTREA-", WriterAntrea},
	{"ISTIO_", WriterIstio},
}

// chainNameWriter knows the chain prefixes of each component.
func chainNameWriter(name string) (attribution, bool) {
	ev := "chain " + name
	for _, o := range otherPrefixes {
		if strings.HasPrefix(name, o.prefix) {
			return attribution{o.writer, ev}, true
		}
	}
	switch {
	case name == "DOCKER-USER":
		return attribution{WriterDocker, ev}, true
	case name == "DOCKER" || strings.HasPrefix(name, "DOCKER-"):
		return attribution{WriterDocker, ev}, true
	case kubeletChains[name]:
		return attribution{WriterKubelet, ev}, true
	case name == "KUBE-HOSTPORTS" || strings.HasPrefix(name, "KUBE-HP-"):
		return attribution{WriterCRIO, ev + " (CRI-O's hostport manager)"}, true
	case strings.HasPrefix(name, "KUBE-"):
		return attribution{WriterKubeProxy, ev}, true
	case strings.HasPrefix(name, "OVN-KUBE-"):
		return attribution{WriterOVNK, ev}, true
	case strings.HasPrefix(name, "CNI-"):
		return attribution{WriterCNI, ev}, true
	case strings.HasPrefix(name, "NETAVARK"):
		return attribution{WriterNetavark, ev}, true
	case strings.HasPrefix(name, "cali-"):
		return attribution{WriterCalico, ev}, true
	}
	if zone, ok := firewalldZone(name); ok {
		if zone != "" {
			ev += " (zone or policy " + zone + ")"
		}
		return attribution{WriterFirewalld, ev}, true
	}
	return attribution{}, false
}

// firewalldZone reports whether name is a firewalld chain, and the zone or
// policy it belongs to ("" for dispatch chains).
func firewalldZone(name string) (string, bool) {
	for _, p := range []string{"filter_", "nat_", "mangle_", "raw_", "security_"} {
		if rest, ok := strings.CutPrefix(name, p); ok && (firewalldHookChain.MatchString(rest) || firewalldZoneChain.MatchString(rest)) {
			name = rest
			break
		}
	}
	if firewalldHookChain.MatchString(name) {
		return "", true
	}
	if m := firewalldZoneChain.FindStringSubmatch(name); m != nil {
		return m[3], true
	}
	return "", false
}

// ruleWriter attributes a rule: the owner of its table or chain, else
// the owner of the chain it jumps to, its comment, or the interfaces it
// names; ok is false when nothing identifies a component.
func ruleWriter(t *nf.Table, c *nf.Chain, r *nf.Rule) (attribution, bool) {
	if why, ok := adminChains[c.Name]; ok && !isChainReturn(r) {
		return attribution{WriterAdmin, "rule in " + why}, true
	}
	for _, f := range []func() (attribution, bool){
		func() (attribution, bool) { return chainWriter(t, c.Name) },
		func() (attribution, bool) { return jumpWriter(r) },
		func() (attribution, bool) { return commentWriter(r.Comment()) },
		func() (attribution, bool) { return ifaceWriter(r) },
	} {
		if a, ok := f(); ok {
			return a, true
		}
	}
	return attribution{}, false
}

// isChainReturn reports whether r is an unconditional RETURN, the one rule
// Docker itself puts in DOCKER-USER.
func isChainReturn(r *nf.Rule) bool {
	if len(r.Exprs) != 1 {
		return false
	}
	v, ok := r.Exprs[0].(*nf.VerdictExpr)
	return ok && v.V.Kind == nf.VerdictReturn
}

// jumpWriter attributes a rule by the chain it jumps or goes to.
func jumpWriter(r *nf.Rule) (attribution, bool) {
	for _, e := range r.Exprs {
		v, ok := e.(*nf.VerdictExpr)
		if !ok || (v.V.Kind != nf.VerdictJump && v.V.Kind != nf.VerdictGoto) {
			continue
		}
		if a, ok := chainNameWriter(v.V.Chain); ok {
			a.evidence = "jumps to " + v.V.Chain
			return a, true
		}
	}
	return attribution{}, false
}

// commentWriters are comment prefixes components write.
var commentWriters = []struct {
	prefix string
	writer Writer
}{
	{"cali:", WriterCalico},                    // Calico rule IDs
	{"kubernetes ", WriterKubeProxy},           // kube-proxy's jump comments ("kubernetes service portals")
	{"block incoming localnet", WriterKubelet}, // KUBE-FIREWALL's route_localnet guard
	{"dnat name: \"", WriterCNI},               // CNI portmap
	{"dnat name: ", WriterNetavark},            // netavark (unquoted name)
	{"name: \"", WriterCNI},                    // CNI bridge ipMasq
	{"CNI ", WriterCNI},                        // CNI portmap/firewall jump comments
	{"netavark ", WriterNetavark},              // netavark jump comments
	{"ovn", WriterOVNK},
	{"cilium", WriterCilium}, // "cilium-feeder: ...", "cilium: ..."
	{"flanneld", WriterFlannel},
	{"kube-router", WriterKubeRouter},
}

func commentWriter(comment string) (attribution, bool) {
	for _, cw := range commentWriters {
		if strings.HasPrefix(comment, cw.prefix) {
			return attribution{cw.writer, "comment " + quoteComment(comment)}, true
		}
	}
	return attribution{}, false
}

func quoteComment(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return `"` + s + `"`
}

// ifaceWriter attributes a rule by the bridge interfaces it names.
func ifaceWriter(r *nf.Rule) (attribution, bool) {
	for _, e := range r.Exprs {
		m, ok := e.(*nf.FieldMatch)
		if !ok || (m.Field != nf.FieldInIface && m.Field != nf.FieldOutIface) {
			continue
		}
		for _, v := range m.Values {
			if w, ok := ifaceOwner(v.Str, v.Wildcard); ok {
				return attribution{w, "interface " + v.String()}, true
			}
		}
	}
	return attribution{}, false
}

// ifaceOwner names the component whose bridge or veth an interface is.
func ifaceOwner(name string, wildcard bool) (Writer, bool) {
	switch {
	case !wildcard && dockerBridge.MatchString(name):
		return WriterDocker, true
	case name == "cni0" || strings.HasPrefix(name, "cni-"):
		return WriterCNI, true
	case strings.HasPrefix(name, "podman"):
		return WriterNetavark, true
	case strings.HasPrefix(name, "cali"):
		return WriterCalico, true
	case strings.HasPrefix(name, "ovn-k8s-"):
		return WriterOVNK, true
	}
	return "", false
}
