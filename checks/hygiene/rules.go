package hygiene

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Backend is the kernel interface an iptables table lives in: the legacy
// x_tables or nf_tables (iptables-nft), which the kernel evaluates side by
// side while each iptables binary shows only its own.
type Backend string

// The backends, named as iptables -V prints them.
const (
	Legacy Backend = "legacy"
	NFT    Backend = "nf_tables"
)

// Rule is one rule of a ruleset, in iptables -S form.
type Rule struct {
	// Table and Chain locate the rule ("filter", "INPUT").
	Table, Chain string
	// Index is the 1-based position in its chain (iptables -L --line-numbers).
	Index int
	// Text is the rule as iptables -S prints it ("-A INPUT -p tcp ... -j ACCEPT").
	Text string
	// Target is the -j/-g target ("ACCEPT", "KUBE-SERVICES"), "" if none.
	Target string
}

// Table is one iptables table of one family and backend.
type Table struct {
	// Family is "ipv4" or "ipv6".
	Family string
	// Name is the table ("filter", "nat", "mangle", "raw", "security").
	Name string
	// Backend is legacy or nf_tables; "" when unknown.
	Backend Backend
	// Chains lists every chain, built-in and user-defined.
	Chains []string
	// Rules are the rules of every chain, in chain order.
	Rules []Rule
}

// Snapshot is the ruleset the rules-based checks read: a small view any
// parser (iptables-save, nft) can fill.
type Snapshot struct {
	// Tables holds every table of every family and backend read.
	Tables []Table
}

// HasChain reports whether chain exists in table (any family and backend).
func (s Snapshot) HasChain(table, chain string) bool {
	for _, t := range s.Tables {
		if t.Name != table {
			continue
		}
		for _, c := range t.Chains {
			if c == chain {
				return true
			}
		}
	}
	return false
}

// families returns, sorted, the IP families of iptables tables holding a
// chain starting with prefix ("" for any table).
func (s Snapshot) families(prefix string) []string {
	seen := map[string]bool{}
	for _, t := range s.Tables {
		if t.Backend == Native || seen[t.Family] {
			continue
		}
		for _, c := range t.Chains {
			if prefix == "" || strings.HasPrefix(c, prefix) {
				seen[t.Family] = true
				break
			}
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// hasChainIn reports whether chain exists in table of family, in any
// iptables backend.
func (s Snapshot) hasChainIn(family, table, chain string) bool {
	for _, t := range s.Tables {
		if t.Family != family || t.Name != table || t.Backend == Native {
			continue
		}
		for _, c := range t.Chains {
			if c == chain {
				return true
			}
		}
	}
	return false
}

// chainsWithPrefix returns the chains (any table) starting with one of the
// prefixes.
func (s Snapshot) chainsWithPrefix(prefixes ...string) []string {
	var out []string
	for _, t := range s.Tables {
		if t.Backend == Native {
			continue
		}
		for _, c := range t.Chains {
			for _, p := range prefixes {
				if strings.HasPrefix(c, p) {
					out = append(out, t.Name+"/"+c)
				}
			}
		}
	}
	return out
}

// nativeChains returns the chains of native nftables tables with one of the
// names ("kube-proxy", "ovn-kubernetes"): nftables-mode components own their
// whole table.
func (s Snapshot) nativeChains(names ...string) []string {
	var out []string
	for _, t := range s.Tables {
		if t.Backend != Native {
			continue
		}
		for _, n := range names {
			if t.Name == n {
				for _, c := range t.Chains {
					out = append(out, t.Family+" "+t.Name+"/"+c)
				}
			}
		}
	}
	return out
}

// ruleCount counts rules across tables.
func (s Snapshot) ruleCount() int {
	n := 0
	for _, t := range s.Tables {
		n += len(t.Rules)
	}
	return n
}

// builtinChains are the iptables built-in chains (one per hook).
var builtinChains = map[string]bool{"PREROUTING": true, "INPUT": true, "FORWARD": true, "OUTPUT": true, "POSTROUTING": true}

// IsBuiltin reports whether chain is a built-in chain.
func IsBuiltin(chain string) bool { return builtinChains[chain] }

// ownerPrefixes attribute a chain to the component that creates it.
var ownerPrefixes = []struct{ prefix, owner string }{
	{"KUBE-", "kubernetes"}, {"OVN-KUBE-", "ovn-kubernetes"}, {"OPENSHIFT-", "openshift"},
	{"DOCKER", "docker"}, {"CNI-", "cni"}, {"cali-", "calico"}, {"CILIUM_", "cilium"},
	{"FLANNEL", "flannel"}, {"KUBE-ROUTER", "kube-router"}, {"LIBVIRT_", "libvirt"}, {"ts-", "tailscale"},
	// firewalld's iptables backend: INPUT_direct, PREROUTING_ZONES,
	// OUTPUT_POLICIES_pre, IN_public_allow, FWD_…, PRE_…, POST_….
	{"INPUT_", "firewalld"}, {"FORWARD_", "firewalld"}, {"OUTPUT_", "firewalld"},
	{"PREROUTING_", "firewalld"}, {"POSTROUTING_", "firewalld"}, {"IN_", "firewalld"}, {"OUT_", "firewalld"},
	{"FWD_", "firewalld"}, {"FWDI_", "firewalld"}, {"FWDO_", "firewalld"}, {"PRE_", "firewalld"}, {"POST_", "firewalld"},
}

// owner returns the component owning a chain by its name, "" for built-in
// and admin chains. OPENSHIFT-ADMIN-OUTPUT-RULES and DOCKER-USER are the
// chains those components leave to admins.
func owner(chain string) string {
	if chain == "OPENSHIFT-ADMIN-OUTPUT-RULES" || chain == "DOCKER-USER" {
		return ""
	}
	for _, p := range ownerPrefixes {
		if strings.HasPrefix(chain, p.prefix) {
			return p.owner
		}
	}
	return ""
}

// componentMarks are texts components put in the rules they add to built-in
// chains: comments (kube-proxy "kubernetes service portals", Docker's bridge
// names, CNI plugins' comments) and their interfaces.
var componentMarks = regexp.MustCompile(`(?i)kubernetes|kube-proxy|kubelet|docker|\bcni\b|cni-|ovn|cali|cilium|flannel|k3s|rke2|openshift|` +
	`-[io] (docker0|br-[0-9a-f]+|cni0|flannel\.|cali|cilium_|ovn-k8s|genev_sys|tun0|podman|virbr)`)

// firewalldShapes are the rules firewalld's iptables backend puts straight
// into built-in chains (state accept, loopback accept, invalid drop, final
// reject), attributed to it only in tables where its chains exist.
var firewalldShapes = regexp.MustCompile(`--ctstate RELATED,ESTABLISHED(,DNAT)? -j ACCEPT$|^-A \S+ -[io] lo -j ACCEPT$|` +
	`--ctstate INVALID -j DROP$|-j REJECT --reject-with icmp6?-(host|adm)-prohibited$`)

// dockerHairpin is dockerd's per-port hairpin masquerade in POSTROUTING
// ("-s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE").
var dockerHairpin = regexp.MustCompile(`^-A POSTROUTING -s (\S+)/32 -d (\S+)/32 .*-j MASQUERADE$`)

// writer attributes a rule to a component: by its target chain, then by
// its marks, then by the shapes firewalld and dockerd write without marks.
// "" means an admin (or unknown) rule.
func writer(r Rule, firewalld bool) string {
	if o := owner(r.Target); o != "" {
		return o
	}
	if m := componentMarks.FindString(r.Text); m != "" {
		return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(m, "-i "), "-o "))
	}
	if firewalld && firewalldShapes.MatchString(r.Text) {
		return "firewalld"
	}
	if m := dockerHairpin.FindStringSubmatch(r.Text); m != nil && m[1] == m[2] {
		return "docker"
	}
	return ""
}

var dockerBridge = regexp.MustCompile(`-[io] (docker0|br-[0-9a-f]+)`)

// dockerOwnRule reports whether a rule in Docker's DOCKER chain has the
// shape dockerd writes: in filter every rule names a Docker bridge; in nat
// it writes only DNAT and RETURN.
func dockerOwnRule(r Rule) bool {
	if r.Table == "nat" {
		return r.Target == "DNAT" || r.Target == "RETURN"
	}
	return dockerBridge.MatchString(r.Text)
}

// ruleRef is "table/chain#index" for evidence.
func ruleRef(r Rule) string { return fmt.Sprintf("%s/%s#%d", r.Table, r.Chain, r.Index) }
