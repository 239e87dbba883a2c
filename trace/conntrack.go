package trace

import nf "github.com/exposure-audit/exposure/netfilter"

// tcpValidFlags are the flag combinations nf_conntrack_proto_tcp.c
// (tcp_valid_flags) accepts, after ECE, CWR and PSH are masked out; any
// other combination makes the packet INVALID.
var tcpValidFlags = map[uint8]bool{
	nf.TCPSyn: true, nf.TCPSyn | nf.TCPUrg: true, nf.TCPSyn | nf.TCPAck: true,
	nf.TCPRst: true, nf.TCPRst | nf.TCPAck: true, nf.TCPFin | nf.TCPAck: true,
	nf.TCPFin | nf.TCPAck | nf.TCPUrg: true, nf.TCPAck: true, nf.TCPAck | nf.TCPUrg: true,
}

// firstPacketState is the state nf_conntrack_in gives the first packet of
// a flow that matches no existing entry:
//   - TCP: SYN opens a flow (NEW); a bare ACK is picked up mid-stream (NEW,
//     nf_conntrack_tcp_loose=1); SYN+ACK, FIN, RST and invalid flag
//     combinations get no entry (INVALID).
//   - UDP, UDP-Lite, GRE and protocols without a tracker: NEW.
//   - ICMP: queries (echo, timestamp, info, address mask) NEW; replies and
//     errors with no flow to relate to INVALID.
//   - ICMPv6: echo request and node information query NEW; neighbour
//     discovery, router solicitation/advertisement and MLD UNTRACKED
//     (icmpv6_error's noct_valid_new); the rest INVALID.
//   - SCTP: only an INIT chunk creates an entry; the simulated packet is
//     taken to be one.
func firstPacketState(p *nf.Packet) nf.CTState {
	switch p.Proto {
	case nf.ProtoTCP:
		f := p.TCPFlags &^ (nf.TCPEce | nf.TCPCwr | nf.TCPPsh)
		if !tcpValidFlags[f] {
			return nf.CTInvalid
		}
		if f&nf.TCPRst != 0 || f&nf.TCPFin != 0 || f == nf.TCPSyn|nf.TCPAck {
			return nf.CTInvalid
		}
		return nf.CTNew
	case nf.ProtoICMP:
		switch p.ICMPType {
		case 8, 13, 15, 17:
			return nf.CTNew
		}
		return nf.CTInvalid
	case nf.ProtoICMPv6:
		switch p.ICMPType {
		case 128, 139:
			return nf.CTNew
		case 130, 131, 132, 133, 134, 135, 136, 143:
			return nf.CTUntracked
		}
		return nf.CTInvalid
	}
	return nf.CTNew
}

// attachConntrack runs nf_conntrack_in for the packet.
func attachConntrack(p *nf.Packet, override *nf.CTState) {
	if p.CT.Notrack || p.CT.Attached {
		return
	}
	st := firstPacketState(p)
	if override != nil {
		st = *override
	}
	switch st {
	case nf.CTInvalid:
		return
	case nf.CTUntracked:
		p.CT.Notrack = true
		return
	}
	p.CT.Attached, p.CT.State = true, st
	p.CT.OrigSrc, p.CT.OrigDst = p.Src, p.Dst
	p.CT.OrigSPort, p.CT.OrigDPort = p.SPort, p.DPort
	if st != nf.CTNew {
		// An existing flow: its NAT was decided by its first packet.
		p.CT.DNATInit, p.CT.SNATInit = true, true
	}
}
