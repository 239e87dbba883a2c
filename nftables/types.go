package nftables

import (
	nf "github.com/exposure-audit/exposure/netfilter"
)

// vtype is the data type of an expression, which decides how its
// constants are read (nft's datatypes: ipv4_addr, inet_service, ct_state…).
type vtype uint8

const (
	tInt vtype = iota
	tAddr4
	tAddr6
	tProto
	tCTState
	tCTStatus
	tIface
	tNFProto
	tPktType
	tICMPType
	tICMPv6Type
	tTCPFlags
	tMAC
	tDSCP
	tFibType
	tMark
	tEtherType
	tVerdict
	tBool
)

// bitmask reports whether nft compares the type with a flag test when the
// operator is implicit (`ct state new,established`, `tcp flags syn`).
func (t vtype) bitmask() bool { return t == tCTState || t == tCTStatus || t == tTCPFlags }

// setTypes maps nft datatype names (set `type` declarations) to types.
var setTypes = map[string]vtype{
	"ipv4_addr": tAddr4, "ipv6_addr": tAddr6, "inet_proto": tProto, "inet_service": tInt,
	"ifname": tIface, "iface_index": tIface, "mark": tMark, "ether_addr": tMAC, "ct_state": tCTState,
	"ct_status": tCTStatus, "icmp_type": tICMPType, "icmpv6_type": tICMPv6Type, "integer": tInt,
	"nf_proto": tNFProto, "pkt_type": tPktType, "tcp_flag": tTCPFlags, "ether_type": tEtherType,
	"dscp": tDSCP, "fib_addrtype": tFibType, "verdict": tVerdict, "uid": tInt, "gid": tInt,
	"time": tInt, "day": tInt, "hour": tInt, "ipsec_spi": tInt, "boolean": tBool,
}

// symbols are the names nft accepts for constants of each type.
var symbols = map[vtype]map[string]uint64{
	tCTState: {"invalid": uint64(nf.CTInvalid), "established": uint64(nf.CTEstablished),
		"related": uint64(nf.CTRelated), "new": uint64(nf.CTNew), "untracked": uint64(nf.CTUntracked)},
	tCTStatus: {"expected": nf.CTStatusExpected, "seen-reply": nf.CTStatusSeenReply, "assured": nf.CTStatusAssured,
		"confirmed": nf.CTStatusConfirmed, "snat": nf.CTStatusSNAT, "dnat": nf.CTStatusDNAT, "dying": 1 << 9},
	tNFProto:   {"ipv4": 2, "ipv6": 10},
	tPktType:   {"host": 0, "unicast": 0, "broadcast": 1, "multicast": 2, "other": 3},
	tEtherType: {"ip": 0x0800, "ip6": 0x86dd, "arp": 0x0806, "vlan": 0x8100},
	tTCPFlags:  {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20, "ecn": 0x40, "cwr": 0x80},
	tICMPType: {"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5,
		"echo-request": 8, "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11,
		"parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15,
		"info-reply": 16, "address-mask-request": 17, "address-mask-reply": 18},
	tICMPv6Type: {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
		"echo-request": 128, "echo-reply": 129, "mld-listener-query": 130, "mld-listener-report": 131,
		"mld-listener-done": 132, "mld-listener-reduction": 132, "nd-router-solicit": 133, "nd-router-advert": 134,
		"nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137, "router-renumbering": 138,
		"ind-neighbor-solicit": 141, "ind-neighbor-advert": 142, "mld2-listener-report": 143},
	tDSCP: {"cs0": 0, "cs1": 8, "cs2": 16, "cs3": 24, "cs4": 32, "cs5": 40, "cs6": 48, "cs7": 56, "df": 0,
		"be": 0, "lephb": 1, "af11": 10, "af12": 12, "af13": 14, "af21": 18, "af22": 20, "af23": 22, "af31": 26,
		"af32": 28, "af33": 30, "af41": 34, "af42": 36, "af43": 38, "va": 44, "ef": 46},
	tBool: {"exists": 1, "missing": 0, "true": 1, "false": 0},
}

// fibTypes maps `fib ... type` names (rtn_type) to xt_addrtype bits.
var fibTypes = map[string]nf.AddrType{
	"unspec": nf.AddrTypeUnspec, "unicast": nf.AddrTypeUnicast, "local": nf.AddrTypeLocal,
	"broadcast": nf.AddrTypeBroadcast, "anycast": nf.AddrTypeAnycast, "multicast": nf.AddrTypeMulticast,
	"blackhole": nf.AddrTypeBlackhole, "unreachable": nf.AddrTypeUnreachable, "prohibit": nf.AddrTypeProhibit,
	"throw": nf.AddrTypeThrow, "nat": nf.AddrTypeNAT, "xresolve": nf.AddrTypeXResolve,
}

// Named base-chain priorities (nft(8) "PRIORITY"): the same numbers for
// the ip, ip6 and inet families (and arp/netdev filter); bridge has its
// own.
var (
	inetPriorities = map[string]int{"raw": nf.PriRaw, "mangle": nf.PriMangle, "dstnat": nf.PriNATDst,
		"filter": nf.PriFilter, "security": nf.PriSecurity, "srcnat": nf.PriNATSrc}
	bridgePriorities = map[string]int{"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}
)

// priorityNames returns the named priorities of family f.
func priorityNames(f nf.Family) map[string]int {
	if f == nf.FamilyBridge {
		return bridgePriorities
	}
	return inetPriorities
}
