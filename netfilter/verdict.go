package netfilter

// VerdictKind is what a rule (or a chain's end) decides. Accept, Drop,
// Reject and Queue are packet verdicts (include/uapi/linux/netfilter.h
// NF_ACCEPT...); Jump, Goto and Return steer chain traversal
// (XT_RETURN, NFT_JUMP/NFT_GOTO/NFT_RETURN); Continue is nft's explicit
// continue.
type VerdictKind uint8

// Verdict kinds.
const (
	VerdictNone VerdictKind = iota
	VerdictAccept
	VerdictDrop
	VerdictReject
	VerdictQueue
	VerdictReturn
	VerdictJump
	VerdictGoto
	VerdictContinue
	// VerdictStolen: the packet was consumed (SYNPROXY on a SYN, nft
	// `synproxy`): for an observer, dropped.
	VerdictStolen
)

var verdictNames = []string{"NONE", "ACCEPT", "DROP", "REJECT", "QUEUE", "RETURN", "JUMP", "GOTO", "CONTINUE", "STOLEN"}

func (k VerdictKind) String() string {
	if int(k) < len(verdictNames) {
		return verdictNames[k]
	}
	return "VERDICT?"
}

// RejectType is the reply a REJECT sends. Its String is the iptables
// spelling (icmp-port-unreachable, tcp-reset, icmp6-adm-prohibited, ...);
// nft's replies without one are spelled icmp-frag-needed and icmpx-*.
type RejectType uint8

// Reject replies (ipt_REJECT.h, ip6t_REJECT.h, nf_tables.h NFT_REJECT_*).
const (
	// RejectNone: no reply type given.
	RejectNone RejectType = iota
	RejectICMPNetUnreachable
	RejectICMPHostUnreachable
	RejectICMPPortUnreachable
	RejectICMPProtoUnreachable
	RejectICMPNetProhibited
	RejectICMPHostProhibited
	RejectICMPAdminProhibited
	RejectICMPFragNeeded
	RejectTCPReset
	RejectICMP6NoRoute
	RejectICMP6AdmProhibited
	RejectICMP6AddrUnreachable
	RejectICMP6PortUnreachable
	RejectICMP6PolicyFail
	RejectICMP6RejectRoute
	RejectICMPXPortUnreachable
	RejectICMPXAdminProhibited
	RejectICMPXNoRoute
	RejectICMPXHostUnreachable
	// RejectUnknown: a reply the parser did not recognise (it warns); an
	// ICMP error of some kind.
	RejectUnknown
)

var rejectNames = [...]string{
	RejectNone:                 "",
	RejectICMPNetUnreachable:   "icmp-net-unreachable",
	RejectICMPHostUnreachable:  "icmp-host-unreachable",
	RejectICMPPortUnreachable:  "icmp-port-unreachable",
	RejectICMPProtoUnreachable: "icmp-proto-unreachable",
	RejectICMPNetProhibited:    "icmp-net-prohibited",
	RejectICMPHostProhibited:   "icmp-host-prohibited",
	RejectICMPAdminProhibited:  "icmp-admin-prohibited",
	RejectICMPFragNeeded:       "icmp-frag-needed",
	RejectTCPReset:             "tcp-reset",
	RejectICMP6NoRoute:         "icmp6-no-route",
	RejectICMP6AdmProhibited:   "icmp6-adm-prohibited",
	RejectICMP6AddrUnreachable: "icmp6-addr-unreachable",
	RejectICMP6PortUnreachable: "icmp6-port-unreachable",
	RejectICMP6PolicyFail:      "icmp6-policy-fail",
	RejectICMP6RejectRoute:     "icmp6-reject-route",
	RejectICMPXPortUnreachable: "icmpx-port-unreachable",
	RejectICMPXAdminProhibited: "icmpx-admin-prohibited",
	RejectICMPXNoRoute:         "icmpx-no-route",
	RejectICMPXHostUnreachable: "icmpx-host-unreachable",
	RejectUnknown:              "unknown",
}

func (r RejectType) String() string {
	if int(r) < len(rejectNames) {
		return rejectNames[r]
	}
	return "unknown"
}

// ParseRejectType returns the reply of a spelling String returns (RejectNone
// and RejectUnknown excepted); false when there is none.
func ParseRejectType(s string) (RejectType, bool) {
	for i, n := range rejectNames {
		if n == s && RejectType(i) != RejectNone && RejectType(i) != RejectUnknown {
			return RejectType(i), true
		}
	}
	return RejectNone, false
}

// Verdict is a verdict with its argument.
type Verdict struct {
	// Chain names the jump/goto target; Target is resolved by Validate.
	Chain  string
	Target *Chain
	// QueueNum and QueueBypass for NFQUEUE.
	QueueNum    uint16
	QueueBypass bool
	// RejectWith is the reply a REJECT sends.
	RejectWith RejectType
	// Kind comes last: the fields are ordered for size (32 bytes: one
	// per jump of a large dump).
	Kind VerdictKind
}

// Terminal reports whether the verdict ends the packet's traversal of the
// current base chain (accept, drop, reject, queue, stolen).
func (v Verdict) Terminal() bool {
	switch v.Kind {
	case VerdictAccept, VerdictDrop, VerdictReject, VerdictQueue, VerdictStolen:
		return true
	}
	return false
}

// Final reports whether the verdict ends the packet's life in netfilter
// (drop, reject, stolen): later base chains on the hook are not run.
func (v Verdict) Final() bool {
	return v.Kind == VerdictDrop || v.Kind == VerdictReject || v.Kind == VerdictStolen
}

func (v Verdict) String() string {
	switch v.Kind {
	case VerdictJump, VerdictGoto:
		return v.Kind.String() + " " + v.Chain
	case VerdictReject:
		if v.RejectWith != RejectNone {
			return "REJECT --reject-with " + v.RejectWith.String()
		}
	}
	return v.Kind.String()
}

// RejectIsReset reports whether a REJECT answers with a TCP RST (what a
// scanner reads as "closed") rather than an ICMP error ("filtered").
func (v Verdict) RejectIsReset() bool {
	return v.Kind == VerdictReject && v.RejectWith == RejectTCPReset
}
