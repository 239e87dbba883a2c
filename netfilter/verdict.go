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

// Verdict is a verdict with its argument.
type Verdict struct {
	// Chain names the jump/goto target; Target is resolved by Validate.
	Chain  string
	Target *Chain
	// RejectWith is the reply a REJECT sends, in iptables spelling
	// (icmp-port-unreachable, tcp-reset, icmp6-adm-prohibited, ...).
	RejectWith string
	// QueueNum and QueueBypass for NFQUEUE.
	QueueNum    uint16
	QueueBypass bool
	// Kind comes last: the fields are ordered for size (48 bytes).
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
		if v.RejectWith != "" {
			return "REJECT --reject-with " + v.RejectWith
		}
	}
	return v.Kind.String()
}

// RejectIsReset reports whether a REJECT answers with a TCP RST (what a
// scanner reads as "closed") rather than an ICMP error ("filtered").
func (v Verdict) RejectIsReset() bool {
	return v.Kind == VerdictReject && (v.RejectWith == "tcp-reset" || v.RejectWith == "tcp-rst")
}
