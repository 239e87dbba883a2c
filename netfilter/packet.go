package netfilter

import (
	"fmt"
	"net/netip"
)

// IP protocol numbers (IANA; include/uapi/linux/in.h).
const (
	ProtoICMP    uint8 = 1
	ProtoIGMP    uint8 = 2
	ProtoTCP     uint8 = 6
	ProtoUDP     uint8 = 17
	ProtoGRE     uint8 = 47
	ProtoESP     uint8 = 50
	ProtoAH      uint8 = 51
	ProtoICMPv6  uint8 = 58
	ProtoSCTP    uint8 = 132
	ProtoUDPLite uint8 = 136
)

// ProtoByName maps the names iptables and nft print (and /etc/protocols
// aliases they accept) to protocol numbers.
var ProtoByName = map[string]uint8{
	"icmp": ProtoICMP, "tcp": ProtoTCP, "udp": ProtoUDP, "gre": ProtoGRE,
	"esp": ProtoESP, "ah": ProtoAH, "icmpv6": ProtoICMPv6, "ipv6-icmp": ProtoICMPv6,
	"icmp6": ProtoICMPv6, "sctp": ProtoSCTP, "udplite": ProtoUDPLite, "ipip": 4,
	"igmp": ProtoIGMP, "ipv6": 41, "dccp": 33, "vrrp": 112, "ospf": 89, "pim": 103,
}

// ProtoName returns the conventional name of a protocol number, or its
// decimal value.
func ProtoName(p uint8) string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoSCTP:
		return "sctp"
	case ProtoUDPLite:
		return "udplite"
	case ProtoGRE:
		return "gre"
	case ProtoESP:
		return "esp"
	case ProtoAH:
		return "ah"
	}
	return fmt.Sprint(p)
}

// HasPorts reports whether protocol p carries 16-bit source and destination
// ports at the start of its header (what xt_tcpudp, xt_multiport and nft's
// `th` read).
func HasPorts(p uint8) bool {
	return p == ProtoTCP || p == ProtoUDP || p == ProtoSCTP || p == ProtoUDPLite || p == 33
}

// TCP flag bits as in the TCP header byte 13 (and --tcp-flags).
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
	TCPUrg uint8 = 0x20
	TCPEce uint8 = 0x40
	TCPCwr uint8 = 0x80
)

// CTState is a conntrack state bit as xt_conntrack and nft's `ct state`
// test them (include/uapi/linux/netfilter/nf_conntrack_common.h:
// NF_CT_STATE_BIT(ctinfo), NF_CT_STATE_INVALID_BIT, NF_CT_STATE_UNTRACKED_BIT).
type CTState uint8

// Conntrack states. A packet has exactly one.
const (
	CTInvalid CTState = 1 << iota
	CTEstablished
	CTRelated
	CTNew
	CTUntracked
)

// CTStateByName parses one state name (iptables upper case or nft lower case).
func CTStateByName(s string) (CTState, bool) {
	switch s {
	case "INVALID", "invalid":
		return CTInvalid, true
	case "ESTABLISHED", "established":
		return CTEstablished, true
	case "RELATED", "related":
		return CTRelated, true
	case "NEW", "new":
		return CTNew, true
	case "UNTRACKED", "untracked":
		return CTUntracked, true
	}
	return 0, false
}

func (s CTState) String() string {
	names := []string{"INVALID", "ESTABLISHED", "RELATED", "NEW", "UNTRACKED"}
	out := ""
	for i, n := range names {
		if s&(1<<i) != 0 {
			if out != "" {
				out += ","
			}
			out += n
		}
	}
	if out == "" {
		return "NONE"
	}
	return out
}

// PktType is the link-layer packet class (include/uapi/linux/if_packet.h
// PACKET_HOST...), as xt_pkttype and `meta pkttype` test it.
type PktType uint8

// Packet types.
const (
	PktHost      PktType = 0
	PktBroadcast PktType = 1
	PktMulticast PktType = 2
	PktOtherHost PktType = 3
)

// Packet is the first packet of a flow as netfilter sees it at some point of
// its path. Hooks rewrite it (NAT, marks); the simulator copies it when a
// trace forks.
type Packet struct {
	Family   IPFamily
	Src, Dst netip.Addr
	Proto    uint8
	SPort    uint16
	DPort    uint16
	TCPFlags uint8
	ICMPType uint8
	ICMPCode uint8
	TTL      uint8
	// Length is the IP total length (IPv4) or payload length + 40 (IPv6),
	// as xt_length and `meta length` read it.
	Length uint16
	TOS    uint8
	// Mark is skb->mark; CTMark the conntrack mark.
	Mark   uint32
	CTMark uint32
	// InIface and OutIface are the interface names; empty where the hook
	// has none (no input interface on OUTPUT, no output before routing).
	InIface  string
	OutIface string
	PktType  PktType
	// SrcMAC is the link-layer source, when known ("" otherwise).
	SrcMAC string
	// UID and GID of the sending socket, for locally generated packets
	// (xt_owner); negative when unknown.
	UID, GID int64
	// Conntrack view of the flow.
	CT ConnTrack
	// Bridged: the packet is being bridged (xt_physdev).
	Bridged bool
}

// ConnTrack is the conntrack entry attached to the packet.
type ConnTrack struct {
	// Attached is false before the conntrack hook ran (and for packets it
	// refused); State then reads INVALID, as xt_conntrack and nft_ct do when
	// skb has no conntrack.
	Attached bool
	State    CTState
	// Orig is the original-direction tuple as first seen.
	OrigSrc, OrigDst     netip.Addr
	OrigSPort, OrigDPort uint16
	// DNAT/SNAT: a binding of that type was set up (IPS_DST_NAT/IPS_SRC_NAT).
	DNAT, SNAT bool
	// DNATInit/SNATInit: the NAT decision of that type has been taken
	// (nf_nat_initialized), including a null binding.
	DNATInit, SNATInit bool
	// Notrack: NOTRACK / CT --notrack / nft notrack asked not to track.
	Notrack bool
}

// CurrentState returns the conntrack state a match sees now.
func (p *Packet) CurrentState() CTState {
	if p.CT.Notrack {
		return CTUntracked
	}
	if !p.CT.Attached {
		return CTInvalid
	}
	return p.CT.State
}

// String renders the packet in the style of a kernel LOG line.
func (p *Packet) String() string {
	s := fmt.Sprintf("IN=%s OUT=%s SRC=%s DST=%s LEN=%d TTL=%d PROTO=%s", p.InIface, p.OutIface, p.Src, p.Dst, p.Length, p.TTL, ProtoName(p.Proto))
	if HasPorts(p.Proto) {
		s += fmt.Sprintf(" SPT=%d DPT=%d", p.SPort, p.DPort)
	}
	if p.Proto == ProtoICMP || p.Proto == ProtoICMPv6 {
		s += fmt.Sprintf(" TYPE=%d CODE=%d", p.ICMPType, p.ICMPCode)
	}
	if p.Mark != 0 {
		s += fmt.Sprintf(" MARK=0x%x", p.Mark)
	}
	return s
}
