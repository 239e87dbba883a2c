package diff

// Kind says what changed.
type Kind string

// Change kinds. Table and chain kinds come first, then rules, then sets.
const (
	// TableAdded: a table exists only after (iptables creates a table on
	// first use; nft `add table`).
	TableAdded Kind = "table_added"
	// TableRemoved: a table exists only before (nft `delete table`,
	// iptables-nft tables removed, a legacy table module unloaded).
	TableRemoved Kind = "table_removed"
	// TableChanged: the table's flags changed (nft `flags dormant`).
	TableChanged Kind = "table_changed"
	// ChainAdded: a chain exists only after (iptables -N, nft `add chain`).
	ChainAdded Kind = "chain_added"
	// ChainRemoved: a chain exists only before (iptables -X).
	ChainRemoved Kind = "chain_removed"
	// ChainEmptied: a chain that had rules has none after (iptables -F);
	// each lost rule is also reported as RuleDeleted.
	ChainEmptied Kind = "chain_emptied"
	// ChainChanged: a base chain's type, hook, priority or device changed,
	// or a chain became a base chain or stopped being one.
	ChainChanged Kind = "chain_changed"
	// PolicyChanged: a base chain's policy changed (iptables -P, nft
	// `policy`): what happens to packets no rule decides.
	PolicyChanged Kind = "policy_changed"
	// RuleInserted: a rule exists only after, at PositionAfter.
	RuleInserted Kind = "rule_inserted"
	// RuleDeleted: a rule exists only before, at PositionBefore.
	RuleDeleted Kind = "rule_deleted"
	// RuleMoved: the same rule is at another place in the same chain
	// relative to the rules around it (it now runs before or after rules
	// it used to follow or precede).
	RuleMoved Kind = "rule_moved"
	// RuleChanged: a rule in the same slot of the chain now reads
	// differently (iptables -R, or a delete and insert at one place).
	RuleChanged Kind = "rule_changed"
	// SetAdded, SetRemoved: an nftables set or map exists on one side only.
	SetAdded   Kind = "set_added"
	SetRemoved Kind = "set_removed"
	// SetChanged: a set's key types, data type or flags changed.
	SetChanged Kind = "set_changed"
	// ElementAdded, ElementRemoved: an element of a set or map exists on
	// one side only (kube-proxy's nftables mode keeps Services here).
	ElementAdded   Kind = "element_added"
	ElementRemoved Kind = "element_removed"
)

// Writer names the component that wrote a change.
type Writer string

// Writers. The names are those of the programs that issue the commands.
const (
	WriterDocker    Writer = "docker"
	WriterKubeProxy Writer = "kube-proxy"
	WriterKubelet   Writer = "kubelet"
	WriterOVNK      Writer = "ovn-kubernetes"
	WriterCNI       Writer = "cni"
	WriterNetavark  Writer = "podman" // netavark, podman's network backend (owner.component "podman")
	WriterFirewalld Writer = "firewalld"
	WriterCalico    Writer = "calico"
	WriterCRIO      Writer = "crio" // as owner.component names CRI-O
	// Other node network components whose chains are recognised by name.
	WriterOpenShiftSDN Writer = "openshift-sdn"
	WriterCilium       Writer = "cilium"
	WriterFlannel      Writer = "flannel"
	WriterKubeRouter   Writer = "kube-router"
	WriterWeave        Writer = "weave"
	WriterAntrea       Writer = "antrea"
	WriterIstio        Writer = "istio"
	WriterAdmin        Writer = "admin"
)

// Result is the semantic difference between two rulesets.
type Result struct {
	// Before and After name the inputs (file names), as given.
	Before []string `json:"before"`
	After  []string `json:"after"`
	// Changes in a stable order: by table (family, name, backend), then
	// chains (base chains by hook and priority, then by name), then each
	// chain's rules in chain order, then sets by name.
	Changes []Change `json:"changes"`
	// ExposureChanges are ports that became open, closed or forwarded.
	ExposureChanges []ExposureChange `json:"exposure_changes"`
	Summary         Summary          `json:"summary"`
	// Notes say what the comparison could not do (for example why
	// ExposureChanges is empty although rules changed).
	Notes []string `json:"notes"`
}

// Change is one difference.
type Change struct {
	Kind Kind `json:"kind"`
	// Family is the nft family (ip, ip6, inet, ...): iptables tables are ip,
	// ip6tables tables ip6.
	Family string `json:"family"`
	Table  string `json:"table"`
	// Backend: iptables-legacy, iptables-nft, nftables, or iptables when a
	// dump does not say which.
	Backend string `json:"backend"`
	Chain   string `json:"chain,omitempty"`
	Set     string `json:"set,omitempty"`
	// PositionBefore and PositionAfter are 1-based rule positions in the
	// chain (as iptables --line-numbers counts them); 0 (omitted) where the
	// rule does not exist on that side.
	PositionBefore int `json:"position_before,omitempty"`
	PositionAfter  int `json:"position_after,omitempty"`
	// TextBefore and TextAfter are the rule (or policy, base chain
	// declaration, set element) as each input spelled it, counters removed.
	TextBefore string `json:"text_before,omitempty"`
	TextAfter  string `json:"text_after,omitempty"`
	// SourceBefore and SourceAfter are file:line of the rule in the inputs.
	SourceBefore string `json:"source_before,omitempty"`
	SourceAfter  string `json:"source_after,omitempty"`
	// RulesBefore and RulesAfter count a chain's rules, for chain kinds.
	RulesBefore *int `json:"rules_before,omitempty"`
	RulesAfter  *int `json:"rules_after,omitempty"`
	// Writer is the component that wrote the change; WriterEvidence says
	// what identified it (a chain name, a jump target, a comment, an
	// interface, a table name).
	Writer         Writer `json:"writer"`
	WriterEvidence string `json:"writer_evidence"`
}

// ExposureChange is a port range whose state, as a remote scanner sees it
// on one local address and input interface, differs between the two
// rulesets: it became open, closed, filtered or forwarded. The fields
// follow package exposure's Exposure.
type ExposureChange struct {
	// Proto is tcp, udp, sctp or icmp.
	Proto string `json:"proto"`
	Addr  string `json:"addr"`
	Iface string `json:"iface"`
	// PortFrom..PortTo inclusive; 0..0 for ICMP echo.
	PortFrom int `json:"port_from"`
	PortTo   int `json:"port_to"`
	// Before and After are states in nmap's vocabulary plus forwarded:
	// open, closed, filtered, forwarded.
	Before string `json:"before"`
	After  string `json:"after"`
	// Sources are the source CIDRs that observe After.
	Sources []string `json:"sources"`
	// To lists where forwarded packets go after ("addr:port", with the
	// probability of kube-proxy's endpoint choice); ToBefore where they
	// went before.
	To       []string `json:"to"`
	ToBefore []string `json:"to_before"`
	// Why lists the rules that decide After (the tracer's path).
	Why    []string `json:"why"`
	Writer Writer   `json:"writer"`
}

// Summary counts the changes.
type Summary struct {
	Total    int            `json:"total"`
	ByKind   map[Kind]int   `json:"by_kind"`
	ByWriter map[Writer]int `json:"by_writer"`
}

// Empty reports whether the rulesets are the same.
func (r *Result) Empty() bool { return len(r.Changes) == 0 && len(r.ExposureChanges) == 0 }
