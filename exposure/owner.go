package exposure

import (
	"regexp"
	"strings"

	"github.com/exposure-audit/exposure/trace"
)

// Owner components.
const (
	CompKubeProxy    = "kube-proxy"
	CompOVNK         = "ovn-kubernetes"
	CompCNIPortmap   = "cni-portmap"
	CompCRIO         = "crio"
	CompDocker       = "docker"
	CompPodman       = "podman"
	CompCalico       = "calico"
	CompFirewalld    = "firewalld"
	CompHost         = "host"
	CompUnattributed = "unattributed"
)

// chainOwners maps chain name prefixes to the component that writes them
// (kube-proxy pkg/proxy/iptables, ovn-kubernetes node gateway_iptables.go,
// CNI plugins/meta/portmap, CRI-O hostport manager, moby libnetwork,
// netavark, Calico felix, firewalld's iptables/nftables backends).
var chainOwners = []struct {
	prefix, comp string
	via          Via
}{
	{"KUBE-NODEPORTS", CompKubeProxy, ViaNodePort},
	{"KUBE-EXT-", CompKubeProxy, ""},
	{"KUBE-FW-", CompKubeProxy, ViaLoadBalancer},
	{"KUBE-XLB-", CompKubeProxy, ""},
	{"KUBE-SVC-", CompKubeProxy, ""},
	{"KUBE-SVL-", CompKubeProxy, ""},
	{"KUBE-SEP-", CompKubeProxy, ""},
	{"KUBE-SERVICES", CompKubeProxy, ""},
	{"KUBE-PROXY-FIREWALL", CompKubeProxy, ViaLoadBalancer},
	{"KUBE-EXTERNAL-SERVICES", CompKubeProxy, ""},
	{"KUBE-HOSTPORTS", CompCRIO, ViaHostPort},
	{"KUBE-HP-", CompCRIO, ViaHostPort},
	{"OVN-KUBE-NODEPORT", CompOVNK, ViaNodePort},
	{"OVN-KUBE-EXTERNALIP", CompOVNK, ViaExternalIP},
	{"OVN-KUBE-ETP", CompOVNK, ViaLoadBalancer},
	{"OVN-KUBE-ITP", CompOVNK, ""},
	{"OVN-KUBE-", CompOVNK, ""},
	{"CNI-HOSTPORT-", CompCNIPortmap, ViaHostPort},
	{"CNI-DN-", CompCNIPortmap, ViaHostPort},
	{"NETAVARK-", CompPodman, ViaPublished},
	{"DOCKER", CompDocker, ViaPublished},
	{"cali-", CompCalico, ""},
	{"IN_", CompFirewalld, ""},
	{"FWD_", CompFirewalld, ""},
	{"PRE_", CompFirewalld, ""},
	{"filter_IN_", CompFirewalld, ""},
	{"nat_PRE_", CompFirewalld, ""},
	{"filter_FWD", CompFirewalld, ""},
	{"INPUT_direct", CompFirewalld, ""},
	{"PREROUTING_", CompFirewalld, ""},
	{"KUBE-", CompKubeProxy, ""},
}

// tableOwners are the native nftables tables each component owns (kube-proxy
// nftables mode, CRI-O >= 1.33 hostports, OVN-Kubernetes, netavark, Docker,
// Calico, firewalld).
var tableOwners = map[string]string{
	"firewalld": CompFirewalld, "firewalld_policy_drop": CompFirewalld, "kube-proxy": CompKubeProxy,
	"crio-hostports": CompCRIO, "ovn-kubernetes": CompOVNK, "netavark": CompPodman,
	"docker-bridges": CompDocker, "calico": CompCalico,
}

// kubeProxyNftChain reads the Service of a kube-proxy nftables-mode chain
// name: "service-HASH-ns/name/proto/port", "external-…", "firewall-…",
// "endpoint-HASH-ns/name/proto/port__ip/port" (pkg/proxy/nftables).
var kubeProxyNftChain = regexp.MustCompile(`^(service|external|firewall|endpoint)-[A-Z0-9]{8}-([^/]+)/([^/]+)/[^/]+/([^_/]*)`)

// chainOwner returns the component writing chain name, if known, and how
// the ports it handles are exposed when the chain alone says it.
func chainOwner(table, name string) (comp string, via Via, ok bool) {
	if c, ok := tableOwners[table]; ok {
		if c == CompCRIO {
			via = ViaHostPort
		}
		return c, via, true
	}
	for _, c := range chainOwners {
		if strings.HasPrefix(name, c.prefix) {
			return c.comp, c.via, true
		}
	}
	return "", "", false
}

var (
	serviceRE   = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[-a-z0-9]*)?)`)
	hostportRE  = regexp.MustCompile(`^(\S+) hostport (\d+)`)
	cniDnatRE   = regexp.MustCompile(`dnat name: "?([^" ]*)"? id: "?([^" ]*)"?`)
	sourceCIDRE = regexp.MustCompile(`-s (\S+/\d+)`)
)

// stepComment returns the comment of a step's rule text (iptables
// `--comment "..."`, nft `comment "..."`).
func stepComment(s trace.Step) string {
	i := strings.Index(s.Text, `comment "`)
	if i < 0 {
		return ""
	}
	rest := s.Text[i+len(`comment "`):]
	var b strings.Builder
	for j := 0; j < len(rest); j++ {
		switch {
		case rest[j] == '\\' && j+1 < len(rest):
			j++
			b.WriteByte(rest[j])
		case rest[j] == '"':
			return b.String()
		default:
			b.WriteByte(rest[j])
		}
	}
	return b.String()
}

// dnatStep returns the index of the step that rewrote the destination:
// an iptables DNAT or REDIRECT target, or an nft dnat/redirect statement.
func dnatStep(path []trace.Step) int {
	for i, s := range path {
		t := s.Target
		if len(t) >= 4 && (strings.EqualFold(t[:4], "DNAT") || len(t) >= 8 && strings.EqualFold(t[:8], "REDIRECT")) {
			return i
		}
		if s.Backend == "nftables" && (strings.Contains(s.Text, "dnat ") || strings.Contains(s.Text, "redirect")) {
			return i
		}
	}
	return -1
}

// attribute names the owner of a row from the chains and comments of its
// path: the component of the DNAT (for rewritten packets), else of the
// rule that decided, else host.
func attribute(r row) Owner {
	path := r.path
	di := dnatStep(path)
	if di < 0 {
		return decider(r)
	}
	o := Owner{Component: CompUnattributed, Chain: path[di].Chain, Rule: path[di].Rule, Comment: stepComment(path[di])}
	for i := di; i >= 0; i-- {
		if comp, _, ok := chainOwner(path[i].Table, path[i].Chain); ok {
			o.Component = comp
			break
		}
	}
	for _, s := range path[:di+1] {
		annotate(&o, s)
	}
	return o
}

// annotate adds what one step says about the owner.
func annotate(o *Owner, s trace.Step) {
	comp, via, ok := chainOwner(s.Table, s.Chain)
	if ok && o.Component == comp && via != "" && o.Via == "" {
		o.Via = via
	}
	if s.Backend == "nftables" && s.Table == "kube-proxy" {
		annotateKubeProxyNft(o, s)
	}
	c := stepComment(s)
	if c == "" {
		annotateRanges(o, s)
		return
	}
	if m := serviceRE.FindStringSubmatch(c); m != nil && o.Name == "" && strings.HasPrefix(s.Chain, "KUBE-") {
		setService(o, m[1])
		switch {
		case strings.Contains(c, "external IP"):
			o.Via = ViaExternalIP
		case strings.Contains(c, "loadbalancer IP"):
			o.Via = ViaLoadBalancer
		case strings.Contains(c, "health check node port"):
			o.Via = ViaHealthCheckNodePort
		}
	}
	if m := hostportRE.FindStringSubmatch(c); m != nil {
		o.Component, o.Via = CompCRIO, ViaHostPort
		setPodFullName(o, m[1])
	}
	if m := cniDnatRE.FindStringSubmatch(c); m != nil {
		o.Container = m[2]
		if m[1] == "podman" {
			o.Component = CompPodman
		}
	}
	annotateRanges(o, s)
}

// setService names the Service of a kube-proxy ServicePortName
// ("namespace/name:port", the port part empty for an unnamed port).
func setService(o *Owner, spn string) {
	nsName, port, _ := strings.Cut(spn, ":")
	ns, name, _ := strings.Cut(nsName, "/")
	o.Kind, o.Namespace, o.Name, o.Port = KindService, ns, name, port
}

// setPodFullName names the Pod of a kubelet/CRI-O hostport comment: the
// pod's full name "name_namespace" (kubelet's GetPodFullName; neither part
// may hold "_"); anything else is kept as the container it names.
func setPodFullName(o *Owner, full string) {
	name, ns, ok := strings.Cut(full, "_")
	if !ok || ns == "" || strings.Contains(ns, "_") {
		o.Container = full
		return
	}
	o.Kind, o.Namespace, o.Name = KindPod, ns, name
}

// annotateKubeProxyNft names the Service from kube-proxy's nftables chain
// names, and how it is exposed from the map the packet was looked up in.
func annotateKubeProxyNft(o *Owner, s trace.Step) {
	if m := kubeProxyNftChain.FindStringSubmatch(s.Chain); m != nil && o.Name == "" {
		o.Kind, o.Namespace, o.Name, o.Port = KindService, m[2], m[3], m[4]
	}
	switch {
	case strings.Contains(s.Text, "@service-nodeports"):
		o.Via = ViaNodePort
	case strings.HasPrefix(s.Chain, "firewall-"):
		o.Via = ViaLoadBalancer
	}
}

// annotateRanges adds the loadBalancerSourceRanges a kube-proxy firewall
// rule names.
func annotateRanges(o *Owner, s trace.Step) {
	if (s.Chain == "KUBE-PROXY-FIREWALL" || strings.HasPrefix(s.Chain, "KUBE-FW-")) && !s.Policy {
		if m := sourceCIDRE.FindStringSubmatch(s.Text); m != nil {
			o.SourceRanges = append(o.SourceRanges, m[1])
		}
	}
}

// decider attributes a row no DNAT touched: the last rule with a
// terminal verdict (its chain's writer), or host when a policy or the
// stack decided.
func decider(r row) Owner {
	for i := len(r.path) - 1; i >= 0; i-- {
		s := r.path[i]
		if s.Policy || !terminal(s.Target) {
			continue
		}
		comp, via, ok := chainOwner(s.Table, s.Chain)
		if !ok {
			comp, via = CompHost, ""
		}
		o := Owner{Component: comp, Via: via, Chain: s.Chain, Rule: s.Rule, Comment: stepComment(s)}
		annotate(&o, s)
		return o
	}
	return Owner{Component: CompHost}
}

func terminal(target string) bool {
	t := strings.ToUpper(target)
	return t == "ACCEPT" || t == "DROP" || strings.HasPrefix(t, "REJECT")
}
