package netns

import (
	"encoding/binary"
	"fmt"
	nf "github.com/exposure-audit/exposure/netfilter"
	"hash/crc32"
	"net"
	"net/netip"
	"strconv"
)

// IP protocol numbers the packet builder knows how to give a transport
// header: the model's own.
const (
	ProtoICMP   = nf.ProtoICMP
	ProtoTCP    = nf.ProtoTCP
	ProtoUDP    = nf.ProtoUDP
	ProtoICMPv6 = nf.ProtoICMPv6
	ProtoSCTP   = nf.ProtoSCTP
)

// TCP flag bits, as in the TCP header and iptables --tcp-flags.
const (
	FIN = nf.TCPFin
	SYN = nf.TCPSyn
	RST = nf.TCPRst
	PSH = nf.TCPPsh
	ACK = nf.TCPAck
	URG = nf.TCPUrg
)

// Default TCP sequence numbers of a probe. Conntrack's window tracking checks them
// only once a flow has seen both directions; a reply must acknowledge Seq+1.
const (
	DefaultSeq    uint32 = 0x1000_0000
	DefaultAckSeq uint32 = 0x2000_0000
)

// Probe is one packet to inject. Zero fields take the defaults noted.
type Probe struct {
	Family   int        // 4 or 6; 0 takes Src's family
	Src, Dst netip.Addr // any addresses; use ProbeSources4/6 so that no reply is ever routed
	Proto    uint8      // IP protocol number (ProtoTCP, ProtoUDP, ProtoICMP, ProtoICMPv6, ProtoSCTP, or any)
	SPort    uint16     // TCP/UDP/SCTP source port; ICMP echo identifier
	DPort    uint16     // TCP/UDP/SCTP destination port
	TCPFlags byte       // TCP flags (SYN, ACK...); the packet carries exactly these
	Seq      uint32     // TCP sequence number; 0 means DefaultSeq
	AckSeq   uint32     // TCP acknowledgment number, sent only with ACK; 0 means DefaultAckSeq
	ICMPType uint8      // ICMP / ICMPv6 type
	ICMPCode uint8      // ICMP / ICMPv6 code
	TTL      uint8      // IPv4 TTL or IPv6 hop limit; 0 means 64
	Length   int        // IP total length (header included); 0 or too small means the minimum
	TOS      uint8      // IPv4 TOS byte or IPv6 traffic class (DSCP<<2 | ECN)
	Payload  []byte     // bytes after the transport header (e.g. the packet quoted by an ICMP error)
	// Where the packet enters: Via "c0", "c2" or "s0" sends an Ethernet frame from
	// the peer end of that link, so it arrives on n0, n2 or n1 as from the wire
	// (PREROUTING); FromNode sends it from a raw socket in the node (OUTPUT, then
	// POSTROUTING).
	Via      string
	FromNode bool
	EthDst   net.HardwareAddr // frame destination for Via; nil means the node's MAC on that link
}

// family returns the probe's address family, 4 or 6.
func (p Probe) family() int {
	if p.Family != 0 {
		return p.Family
	}
	if p.Src.Is4() {
		return 4
	}
	return 6
}

// String describes the probe in one line, for test messages.
func (p Probe) String() string {
	where := "via " + p.Via
	if p.FromNode {
		where = "from node"
	}
	s := fmt.Sprintf("%s %s", protoName(p.Proto), where)
	s += fmt.Sprintf(" %s:%d > %s:%d", p.Src, p.SPort, p.Dst, p.DPort)
	if p.Proto == ProtoTCP {
		s += fmt.Sprintf(" flags=%#02x", p.TCPFlags)
	}
	if p.Proto == ProtoICMP || p.Proto == ProtoICMPv6 {
		s += fmt.Sprintf(" type=%d code=%d", p.ICMPType, p.ICMPCode)
	}
	return s + fmt.Sprintf(" ttl=%d len=%d tos=%#02x", p.TTL, p.Length, p.TOS)
}

// ParseProto returns the protocol number of an iptables -p name ("tcp", "udp",
// "icmp", "icmpv6"/"ipv6-icmp", "sctp") or of a decimal number 0-255.
func ParseProto(name string) (uint8, error) {
	switch name {
	case "tcp":
		return ProtoTCP, nil
	case "udp":
		return ProtoUDP, nil
	case "icmp":
		return ProtoICMP, nil
	case "icmpv6", "ipv6-icmp", "icmp6":
		return ProtoICMPv6, nil
	case "sctp":
		return ProtoSCTP, nil
	}
	n, err := strconv.ParseUint(name, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("parse protocol %q: %w", name, err)
	}
	return uint8(n), nil
}

// protoName returns the iptables name of a protocol number, or the number.
func protoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "ipv6-icmp"
	case ProtoSCTP:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// Bytes returns the probe as an IP packet (no link-layer header) with correct
// IPv4 header, TCP, UDP, ICMP, ICMPv6 and SCTP (CRC32c) checksums: the kernel's
// conntrack drops packets with bad checksums as INVALID (nf_conntrack_checksum=1).
func (p Probe) Bytes() ([]byte, error) {
	fam := p.family()
	if (fam == 4) != (p.Src.Is4() && p.Dst.Is4()) || !p.Src.IsValid() || !p.Dst.IsValid() {
		return nil, fmt.Errorf("build probe %v: addresses do not match family %d", p, fam)
	}
	hdr := 20
	if fam == 6 {
		hdr = 40
	}
	l4 := append(p.transport(), p.Payload...)
	total := max(p.Length, hdr+len(l4))
	if total > 65535 {
		return nil, fmt.Errorf("build probe %v: length %d over 65535", p, total)
	}
	pkt := make([]byte, total)
	copy(pkt[hdr:], l4)
	seg := pkt[hdr:]
	if fam == 4 {
		p.ipv4Header(pkt[:hdr], total)
	} else {
		p.ipv6Header(pkt[:hdr], total-hdr)
	}
	p.fillChecksum(seg)
	return pkt, nil
}

// transport returns the transport header (and fixed body) without checksums.
func (p Probe) transport() []byte {
	switch p.Proto {
	case ProtoTCP:
		b := make([]byte, 20)
		binary.BigEndian.PutUint16(b[0:], p.SPort)
		binary.BigEndian.PutUint16(b[2:], p.DPort)
		binary.BigEndian.PutUint32(b[4:], or(p.Seq, DefaultSeq))
		if p.TCPFlags&ACK != 0 {
			binary.BigEndian.PutUint32(b[8:], or(p.AckSeq, DefaultAckSeq))
		}
		b[12] = 5 << 4
		b[13] = p.TCPFlags
		binary.BigEndian.PutUint16(b[14:], 65535)
		return b
	case ProtoUDP:
		b := make([]byte, 8)
		binary.BigEndian.PutUint16(b[0:], p.SPort)
		binary.BigEndian.PutUint16(b[2:], p.DPort)
		return b
	case ProtoICMP, ProtoICMPv6:
		b := make([]byte, 8)
		b[0], b[1] = p.ICMPType, p.ICMPCode
		binary.BigEndian.PutUint16(b[4:], p.SPort) // echo identifier
		binary.BigEndian.PutUint16(b[6:], 1)       // echo sequence
		return b
	case ProtoSCTP:
		return p.sctpInit()
	}
	return nil
}

// sctpInit returns an SCTP common header (verification tag 0) with one INIT chunk,
// the only chunk conntrack accepts as the first packet of an association.
func (p Probe) sctpInit() []byte {
	b := make([]byte, 12+20)
	binary.BigEndian.PutUint16(b[0:], p.SPort)
	binary.BigEndian.PutUint16(b[2:], p.DPort)
	c := b[12:]
	c[0] = 1                                      // INIT
	binary.BigEndian.PutUint16(c[2:], 20)         // chunk length
	binary.BigEndian.PutUint32(c[4:], 0x0badf00d) // initiate tag
	binary.BigEndian.PutUint32(c[8:], 65535)      // a_rwnd
	binary.BigEndian.PutUint16(c[12:], 1)         // outbound streams
	binary.BigEndian.PutUint16(c[14:], 1)         // inbound streams
	binary.BigEndian.PutUint32(c[16:], 1)         // initial TSN
	return b
}

// ipv4Header writes a 20-byte IPv4 header with its checksum.
func (p Probe) ipv4Header(h []byte, total int) {
	h[0] = 0x45
	h[1] = p.TOS
	binary.BigEndian.PutUint16(h[2:], uint16(total))
	binary.BigEndian.PutUint16(h[4:], 0x4242) // identification, nonzero
	h[8] = ttl(p.TTL)
	h[9] = p.Proto
	s, d := p.Src.As4(), p.Dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], fold(sum(0, h)))
}

// ipv6Header writes a 40-byte IPv6 header.
func (p Probe) ipv6Header(h []byte, payload int) {
	binary.BigEndian.PutUint32(h[0:], 6<<28|uint32(p.TOS)<<20)
	binary.BigEndian.PutUint16(h[4:], uint16(payload))
	h[6] = p.Proto
	h[7] = ttl(p.TTL)
	s, d := p.Src.As16(), p.Dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
}

func or(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

func ttl(t uint8) uint8 {
	if t == 0 {
		return 64
	}
	return t
}

// fillChecksum writes the transport checksum over seg (the whole IP payload).
func (p Probe) fillChecksum(seg []byte) {
	switch p.Proto {
	case ProtoTCP:
		binary.BigEndian.PutUint16(seg[16:], fold(sum(p.pseudo(len(seg)), seg)))
	case ProtoUDP:
		binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)))
		c := fold(sum(p.pseudo(len(seg)), seg))
		if c == 0 {
			c = 0xffff // RFC 768: zero means "no checksum"
		}
		binary.BigEndian.PutUint16(seg[6:], c)
	case ProtoICMP:
		binary.BigEndian.PutUint16(seg[2:], fold(sum(0, seg)))
	case ProtoICMPv6:
		binary.BigEndian.PutUint16(seg[2:], fold(sum(p.pseudo(len(seg)), seg)))
	case ProtoSCTP:
		binary.LittleEndian.PutUint32(seg[8:], crc32.Checksum(seg, crc32.MakeTable(crc32.Castagnoli)))
	}
}

// pseudo returns the unfolded sum of the IPv4 or IPv6 pseudo-header.
func (p Probe) pseudo(length int) uint32 {
	var s uint32
	s = sum(s, p.Src.AsSlice())
	s = sum(s, p.Dst.AsSlice())
	return s + uint32(p.Proto) + uint32(length)
}

// sum adds b as big-endian 16-bit words to s (RFC 1071).
func sum(s uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

// fold folds a 32-bit sum into the one's-complement 16-bit checksum.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
