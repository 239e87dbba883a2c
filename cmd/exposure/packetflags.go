package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// packetFlags describe one packet; shared by trace and its --batch lines.
type packetFlags struct {
	proto, src, dst    string
	sport, dport       int
	inIface, outIface  string
	tcpFlags           string
	icmpType, icmpCode int
	ttl, length        int
	mark               string
	state              string
	local              bool
	uid, gid           int64
}

func (p *packetFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&p.proto, "proto", "p", "tcp", "protocol: tcp|udp|icmp|icmpv6|sctp or a number")
	f.StringVarP(&p.src, "src", "s", "", "source address")
	f.StringVarP(&p.dst, "dst", "d", "", "destination address")
	f.IntVar(&p.sport, "sport", 40000, "source port")
	f.IntVar(&p.dport, "dport", 0, "destination port")
	f.StringVarP(&p.inIface, "in-iface", "i", "", "interface the packet arrives on (default eth0 for a packet from outside)")
	f.StringVar(&p.outIface, "out-iface", "", "interface routing sends the packet out of")
	f.StringVar(&p.tcpFlags, "tcp-flags", "SYN", "TCP flags set, comma-separated (SYN,ACK,FIN,RST,PSH,URG,ECE,CWR)")
	f.IntVar(&p.icmpType, "icmp-type", 8, "ICMP type (ICMPv6: 128 for echo request)")
	f.IntVar(&p.icmpCode, "icmp-code", 0, "ICMP code")
	f.IntVar(&p.ttl, "ttl", 64, "IP TTL / hop limit")
	f.IntVar(&p.length, "length", 0, "IP packet length (default: headers only)")
	f.StringVar(&p.mark, "mark", "0", "packet mark (skb->mark) when it enters")
	f.StringVar(&p.state, "state", "", "conntrack state instead of the first-packet one: new|established|related|invalid|untracked")
	f.BoolVar(&p.local, "local", false, "the node itself sends the packet (OUTPUT path)")
	f.Int64Var(&p.uid, "uid", -1, "owner UID of the sending socket (with --local)")
	f.Int64Var(&p.gid, "gid", -1, "owner GID of the sending socket (with --local)")
}

// input builds the trace input; notes are assumptions the defaults made.
func (p packetFlags) input() (trace.Input, []string, error) {
	var in trace.Input
	var notes []string
	pk := &in.Packet
	var err error
	if pk.Src, err = parseAddrFlag("-s/--src", p.src); err != nil {
		return in, nil, err
	}
	if pk.Dst, err = parseAddrFlag("-d/--dst", p.dst); err != nil {
		return in, nil, err
	}
	if pk.Proto, err = parseProtoFlag(p.proto, pk.Dst.Is6()); err != nil {
		return in, nil, err
	}
	if err := p.ports(pk); err != nil {
		return in, nil, err
	}
	if err := p.headers(pk); err != nil {
		return in, nil, err
	}
	in.Local = p.local
	pk.InIface, pk.OutIface = p.inIface, p.outIface
	if !p.local && pk.InIface == "" {
		pk.InIface = "eth0"
		notes = append(notes, "input interface not given (-i): assumed eth0")
	}
	pk.UID, pk.GID = p.uid, p.gid
	if p.state != "" {
		st, ok := nf.CTStateByName(strings.ToLower(p.state))
		if !ok {
			return in, nil, fmt.Errorf("--state %q: want new|established|related|invalid|untracked", p.state)
		}
		in.State = &st
	}
	return in, notes, nil
}

func (p packetFlags) ports(pk *nf.Packet) error {
	if !nf.HasPorts(pk.Proto) {
		return nil
	}
	if p.dport <= 0 || p.dport > 65535 {
		return fmt.Errorf("--dport: a port 1-65535 is required for %s", nf.ProtoName(pk.Proto))
	}
	if p.sport < 0 || p.sport > 65535 {
		return fmt.Errorf("--sport %d out of range", p.sport)
	}
	pk.SPort, pk.DPort = uint16(p.sport), uint16(p.dport)
	return nil
}

func (p packetFlags) headers(pk *nf.Packet) error {
	if pk.Proto == nf.ProtoTCP {
		f, err := parseTCPFlagList(p.tcpFlags)
		if err != nil {
			return err
		}
		pk.TCPFlags = f
	}
	if pk.Proto == nf.ProtoICMP || pk.Proto == nf.ProtoICMPv6 {
		it := p.icmpType
		if pk.Proto == nf.ProtoICMPv6 && it == 8 {
			it = 128
		}
		if it < 0 || it > 255 || p.icmpCode < 0 || p.icmpCode > 255 {
			return fmt.Errorf("--icmp-type/--icmp-code out of range")
		}
		pk.ICMPType, pk.ICMPCode = uint8(it), uint8(p.icmpCode)
	}
	if p.ttl < 0 || p.ttl > 255 || p.length < 0 || p.length > 65535 {
		return fmt.Errorf("--ttl or --length out of range")
	}
	pk.TTL, pk.Length = uint8(p.ttl), uint16(p.length)
	m, err := strconv.ParseUint(p.mark, 0, 32)
	if err != nil {
		return fmt.Errorf("--mark %q: %w", p.mark, err)
	}
	pk.Mark = uint32(m)
	return nil
}

func parseAddrFlag(name, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, fmt.Errorf("%s is required", name)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%s %q is not an IP address", name, s)
	}
	return a.Unmap(), nil
}

func parseProtoFlag(s string, v6 bool) (uint8, error) {
	s = strings.ToLower(s)
	if s == "icmp" && v6 {
		return nf.ProtoICMPv6, nil
	}
	if p, ok := nf.ProtoByName[s]; ok {
		return p, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("-p %q: unknown protocol", s)
	}
	return uint8(n), nil
}

func parseTCPFlagList(s string) (uint8, error) {
	names := map[string]uint8{"FIN": nf.TCPFin, "SYN": nf.TCPSyn, "RST": nf.TCPRst, "PSH": nf.TCPPsh,
		"ACK": nf.TCPAck, "URG": nf.TCPUrg, "ECE": nf.TCPEce, "CWR": nf.TCPCwr, "NONE": 0}
	var f uint8
	for _, n := range strings.Split(s, ",") {
		v, ok := names[strings.ToUpper(strings.TrimSpace(n))]
		if !ok {
			return 0, fmt.Errorf("--tcp-flags: unknown flag %q", n)
		}
		f |= v
	}
	return f, nil
}
