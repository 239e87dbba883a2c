package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// services are the port names iptables resolves through /etc/services that
// show up in hand-written rules (iptables-save prints numbers).
var services = map[string]uint16{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80,
	"pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "ldap": 389, "https": 443,
	"submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995, "mysql": 3306,
	"postgresql": 5432, "bootps": 67, "bootpc": 68, "tftp": 69, "syslog": 514,
}

func parsePort(s string) (uint16, error) {
	if p, ok := services[s]; ok {
		return p, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}

// parsePortRange reads "80", "80:90", ":90", "80:" (xt_tcpudp) and "80-90"
// (nft-style, accepted by some front-ends).
func parsePortRange(s string) (nf.Value, error) {
	sep := strings.IndexAny(s, ":-")
	if sep < 0 {
		p, err := parsePort(s)
		return nf.IntValue(uint64(p)), err
	}
	lo, hi := uint16(0), uint16(65535)
	var err error
	if a := s[:sep]; a != "" {
		if lo, err = parsePort(a); err != nil {
			return nf.Value{}, err
		}
	}
	if b := s[sep+1:]; b != "" {
		if hi, err = parsePort(b); err != nil {
			return nf.Value{}, err
		}
	}
	if lo > hi {
		lo, hi = hi, lo // iptables swaps an inverted range
	}
	return nf.IntRange(uint64(lo), uint64(hi)), nil
}

func parsePortList(s string) ([]nf.Value, error) {
	var out []nf.Value
	for _, p := range strings.Split(s, ",") {
		v, err := parsePortRange(p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// parseAddr reads an address with an optional /len or /dotted-mask, as -s
// and -d accept them, for the given family.
func parseAddr(s string, fam nf.IPFamily) (nf.Value, error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nf.Value{}, fmt.Errorf("invalid address %q (host names are not resolved)", s)
	}
	if a.Is4() != (fam == nf.IPv4) {
		return nf.Value{}, fmt.Errorf("address %q is not %s", s, fam)
	}
	bits := a.BitLen()
	if hasMask {
		if bits, err = parseMask(mask, a.BitLen()); err != nil {
			return nf.Value{}, fmt.Errorf("invalid mask in %q: %w", s, err)
		}
	}
	return nf.PrefixValue(netip.PrefixFrom(a, bits)), nil
}

func parseMask(m string, max int) (int, error) {
	if n, err := strconv.Atoi(m); err == nil {
		if n < 0 || n > max {
			return 0, fmt.Errorf("prefix length %d out of range", n)
		}
		return n, nil
	}
	ma, err := netip.ParseAddr(m)
	if err != nil || ma.BitLen() != max {
		return 0, fmt.Errorf("%q is not a mask", m)
	}
	b := ma.AsSlice()
	n, seenZero := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, fmt.Errorf("non-contiguous mask %q is not supported", m)
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n, nil
}

// parseUint reads decimal or 0x hex, as iptables' xtables_strtoui does.
func parseUint(s string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return n, nil
}

// parseValueMask reads "value[/mask]" (mark, connmark, MARK).
func parseValueMask(s string) (v, m uint32, hasMask bool, err error) {
	a, b, has := strings.Cut(s, "/")
	x, err := parseUint(a, 32)
	if err != nil {
		return 0, 0, false, err
	}
	m = 0xffffffff
	if has {
		y, err := parseUint(b, 32)
		if err != nil {
			return 0, 0, false, err
		}
		m = uint32(y)
	}
	return uint32(x), m, has, nil
}

var tcpFlagNames = map[string]uint8{
	"FIN": nf.TCPFin, "SYN": nf.TCPSyn, "RST": nf.TCPRst, "PSH": nf.TCPPsh,
	"ACK": nf.TCPAck, "URG": nf.TCPUrg, "ECE": nf.TCPEce, "CWR": nf.TCPCwr,
	"ALL": 0xff, "NONE": 0,
}

func parseTCPFlags(s string) (uint8, error) {
	var f uint8
	for _, n := range strings.Split(s, ",") {
		v, ok := tcpFlagNames[strings.ToUpper(n)]
		if !ok {
			return 0, fmt.Errorf("unknown TCP flag %q", n)
		}
		f |= v
	}
	return f, nil
}

// icmpTypes maps the names iptables -p icmp --help lists to type/code
// ranges; code -1 means any code.
var icmpTypes = map[string][2]int{
	"any": {-1, -1}, "echo-reply": {0, -1}, "pong": {0, -1}, "destination-unreachable": {3, -1},
	"network-unreachable": {3, 0}, "host-unreachable": {3, 1}, "protocol-unreachable": {3, 2},
	"port-unreachable": {3, 3}, "fragmentation-needed": {3, 4}, "source-route-failed": {3, 5},
	"network-unknown": {3, 6}, "host-unknown": {3, 7}, "network-prohibited": {3, 9},
	"host-prohibited": {3, 10}, "TOS-network-unreachable": {3, 11}, "TOS-host-unreachable": {3, 12},
	"communication-prohibited": {3, 13}, "host-precedence-violation": {3, 14},
	"precedence-cutoff": {3, 15}, "source-quench": {4, -1}, "redirect": {5, -1},
	"network-redirect": {5, 0}, "host-redirect": {5, 1}, "TOS-network-redirect": {5, 2},
	"TOS-host-redirect": {5, 3}, "echo-request": {8, -1}, "ping": {8, -1},
	"router-advertisement": {9, -1}, "router-solicitation": {10, -1}, "time-exceeded": {11, -1},
	"ttl-exceeded": {11, -1}, "ttl-zero-during-transit": {11, 0}, "ttl-zero-during-reassembly": {11, 1},
	"parameter-problem": {12, -1}, "ip-header-bad": {12, 0}, "required-option-missing": {12, 1},
	"timestamp-request": {13, -1}, "timestamp-reply": {14, -1}, "address-mask-request": {17, -1},
	"address-mask-reply": {18, -1},
}

var icmp6Types = map[string][2]int{
	"destination-unreachable": {1, -1}, "no-route": {1, 0}, "communication-prohibited": {1, 1},
	"beyond-scope": {1, 2}, "address-unreachable": {1, 3}, "port-unreachable": {1, 4},
	"failed-policy": {1, 5}, "reject-route": {1, 6}, "packet-too-big": {2, -1},
	"time-exceeded": {3, -1}, "ttl-exceeded": {3, -1}, "ttl-zero-during-transit": {3, 0},
	"ttl-zero-during-reassembly": {3, 1}, "parameter-problem": {4, -1}, "bad-header": {4, 0},
	"unknown-header-type": {4, 1}, "unknown-option": {4, 2}, "echo-request": {128, -1},
	"ping": {128, -1}, "echo-reply": {129, -1}, "pong": {129, -1}, "router-solicitation": {133, -1},
	"router-advertisement": {134, -1}, "neighbour-solicitation": {135, -1},
	"neighbor-solicitation": {135, -1}, "neighbour-advertisement": {136, -1},
	"neighbor-advertisement": {136, -1}, "redirect": {137, -1},
}

// parseICMPType reads "name", "type" or "type/code"; type -1 means any.
func parseICMPType(s string, v6 bool) (typ, code int, err error) {
	names := icmpTypes
	if v6 {
		names = icmp6Types
	}
	if tc, ok := names[s]; ok {
		return tc[0], tc[1], nil
	}
	a, b, hasCode := strings.Cut(s, "/")
	t, err := strconv.ParseUint(a, 10, 8)
	if err != nil {
		return 0, 0, fmt.Errorf("unknown ICMP type %q", s)
	}
	code = -1
	if hasCode {
		c, err := strconv.ParseUint(b, 10, 8)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid ICMP code in %q", s)
		}
		code = int(c)
	}
	return int(t), code, nil
}

func parseStates(s string) (nf.CTState, error) {
	var st nf.CTState
	for _, n := range strings.Split(s, ",") {
		v, ok := nf.CTStateByName(strings.ToUpper(n))
		if !ok {
			if strings.EqualFold(n, "SNAT") || strings.EqualFold(n, "DNAT") {
				// --ctstate SNAT/DNAT are virtual states: the ct status bits.
				continue
			}
			return 0, fmt.Errorf("unknown conntrack state %q", n)
		}
		st |= v
	}
	return st, nil
}

var ctStatusNames = map[string]uint64{
	"NONE": 0, "EXPECTED": nf.CTStatusExpected, "SEEN_REPLY": nf.CTStatusSeenReply,
	"ASSURED": nf.CTStatusAssured, "CONFIRMED": nf.CTStatusConfirmed,
}
