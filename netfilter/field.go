package netfilter

import "fmt"

// Field names a property of the packet (or of its conntrack entry) that a
// FieldMatch compares. Port fields read the transport header; they are
// absent for protocols without ports.
type Field uint8

// Fields.
const (
	FieldSrc Field = iota
	FieldDst
	FieldProto
	FieldSPort
	FieldDPort
	// FieldPorts matches when the source OR the destination port is in the
	// values (multiport --ports).
	FieldPorts
	FieldInIface
	FieldOutIface
	FieldMark
	FieldCTMark
	FieldCTState
	FieldICMPType
	FieldICMPCode
	FieldTTL
	FieldLength
	FieldTCPFlags
	FieldTOS
	FieldPktType
	FieldNFProto
	FieldCTOrigSrc
	FieldCTOrigDst
	FieldCTOrigSPort
	FieldCTOrigDPort
	FieldCTStatus
	FieldSrcMAC
	FieldUID
	FieldGID
	// NumFields is the number of fields; not a field.
	NumFields
)

var fieldNames = [NumFields]string{"saddr", "daddr", "l4proto", "sport", "dport", "ports", "iifname", "oifname",
	"mark", "ct mark", "ct state", "icmp type", "icmp code", "ttl", "length", "tcp flags", "tos", "pkttype",
	"nfproto", "ct original saddr", "ct original daddr", "ct original proto-src", "ct original proto-dst",
	"ct status", "ether saddr", "skuid", "skgid"}

func (f Field) String() string {
	if f < NumFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field%d", f)
}

// CT status bits (IPS_*), the ones rules test.
const (
	CTStatusExpected  uint64 = 1 << 0
	CTStatusSeenReply uint64 = 1 << 1
	CTStatusAssured   uint64 = 1 << 2
	CTStatusConfirmed uint64 = 1 << 3
	CTStatusSNAT      uint64 = 1 << 4
	CTStatusDNAT      uint64 = 1 << 5
)

// fieldValue returns the packet's value for an integer field, and whether
// the packet has that field at all.
func (p *Packet) fieldInt(f Field) (uint64, bool) {
	switch f {
	case FieldProto:
		return uint64(p.Proto), true
	case FieldSPort:
		return uint64(p.SPort), HasPorts(p.Proto)
	case FieldDPort:
		return uint64(p.DPort), HasPorts(p.Proto)
	case FieldMark:
		return uint64(p.Mark), true
	case FieldCTMark:
		return uint64(p.CTMark), p.CT.Attached && !p.CT.Notrack
	case FieldCTState:
		return uint64(p.CurrentState()), true
	case FieldICMPType:
		return uint64(p.ICMPType), p.Proto == ProtoICMP || p.Proto == ProtoICMPv6
	case FieldICMPCode:
		return uint64(p.ICMPCode), p.Proto == ProtoICMP || p.Proto == ProtoICMPv6
	case FieldTTL:
		return uint64(p.TTL), true
	case FieldLength:
		return uint64(p.Length), true
	case FieldTCPFlags:
		return uint64(p.TCPFlags), p.Proto == ProtoTCP
	case FieldTOS:
		return uint64(p.TOS), true
	case FieldPktType:
		return uint64(p.PktType), true
	case FieldNFProto:
		if p.Family == IPv6 {
			return 10, true
		}
		return 2, true
	case FieldCTOrigSPort:
		return uint64(p.CT.OrigSPort), p.CT.Attached
	case FieldCTOrigDPort:
		return uint64(p.CT.OrigDPort), p.CT.Attached
	case FieldCTStatus:
		return p.ctStatus(), p.CT.Attached
	case FieldUID:
		return uint64(p.UID), p.UID >= 0
	case FieldGID:
		return uint64(p.GID), p.GID >= 0
	}
	return 0, false
}

func (p *Packet) ctStatus() uint64 {
	s := CTStatusConfirmed
	if p.CT.State == CTNew {
		s = 0
	}
	if p.CT.DNAT {
		s |= CTStatusDNAT
	}
	if p.CT.SNAT {
		s |= CTStatusSNAT
	}
	return s
}
