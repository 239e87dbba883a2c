package netns

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// ctStates are the states one counter rule each watches in mangle PREROUTING.
var ctStates = []string{"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"}

// stateRuleset counts each conntrack state in mangle PREROUTING and, for the
// UNTRACKED cases, lets raw PREROUTING exempt packets to port 9 from tracking.
func stateRuleset(notrack string) string {
	var sb strings.Builder
	sb.WriteString("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	if notrack != "" {
		sb.WriteString("-A PREROUTING -p udp --dport 9 -j " + notrack + "\n")
	}
	sb.WriteString("COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n")
	for _, s := range ctStates {
		fmt.Fprintf(&sb, "-A PREROUTING -m conntrack --ctstate %s\n", s)
	}
	return sb.String() + "COMMIT\n"
}

// observedState returns the states whose counter rule moved, joined by "+".
func observedState(t *testing.T, lab *Lab, b Backend, v6 bool) string {
	t.Helper()
	save, err := lab.SaveIptables(b, v6)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseSaveCounters(save)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		if c.Table == "mangle" && c.Rule > 0 && c.Packets > 0 {
			got = append(got, fmt.Sprintf("%s×%d", strings.TrimPrefix(c.Text, "-A PREROUTING -m conntrack --ctstate "), c.Packets))
		}
	}
	slices.Sort(got)
	return strings.Join(got, "+")
}

type stateCase struct {
	name   string
	probes []Probe // earlier probes set up the flow; the last one is observed
	want   string  // state of the last probe
}

// firstPacketCases are the facts the simulator relies on: the conntrack state of
// the first packet of a flow, and of replies once a flow exists.
func firstPacketCases(v6 bool) []stateCase {
	src, local, remote := addr("198.18.0.7"), addr("198.51.100.1"), addr("203.0.113.2")
	icmp, echo, echoReply, unreach := ProtoICMP, uint8(8), uint8(0), uint8(3)
	if v6 {
		src, local, remote = addr("2001:db8:ff00::7"), addr("2001:db8:1::1"), addr("2001:db8:2::2")
		icmp, echo, echoReply, unreach = ProtoICMPv6, 128, 129, 1
	}
	in := func(proto uint8, flags byte) Probe {
		return Probe{Src: src, Dst: local, Proto: proto, SPort: 40000, DPort: 22, TCPFlags: flags, Via: "c0"}
	}
	icmpIn := func(typ uint8) Probe {
		p := in(icmp, 0)
		p.ICMPType, p.SPort = typ, 77
		return p
	}
	fwd := func(proto uint8, flags byte) Probe {
		p := in(proto, flags)
		p.Dst = remote
		return p
	}
	reply := func(p Probe, flags byte) Probe {
		p.Src, p.Dst, p.SPort, p.DPort, p.TCPFlags, p.Via = p.Dst, p.Src, p.DPort, p.SPort, flags, "s0"
		return p
	}
	synAck := reply(fwd(ProtoTCP, SYN), SYN|ACK)
	synAck.Seq, synAck.AckSeq = 0x5000_0000, DefaultSeq+1
	ack := fwd(ProtoTCP, ACK)
	ack.Seq, ack.AckSeq = DefaultSeq+1, 0x5000_0001
	udpOut := fwd(ProtoUDP, 0)
	quoted, _ := udpOut.Bytes()
	icmpErr := Probe{Src: remote, Dst: src, Proto: icmp, ICMPType: unreach, ICMPCode: 3, Payload: quoted, Via: "s0"}
	ns := Probe{Src: src, Dst: local, Proto: ProtoICMPv6, ICMPType: 135, TTL: 255, Via: "c0"}
	other := in(253, 0)
	cases := []stateCase{
		{"tcp SYN", []Probe{in(ProtoTCP, SYN)}, "NEW×1"},
		{"tcp bare ACK (loose pickup)", []Probe{in(ProtoTCP, ACK)}, "NEW×1"},
		{"tcp PSH+ACK (loose pickup)", []Probe{in(ProtoTCP, PSH|ACK)}, "NEW×1"},
		{"tcp SYN+ACK", []Probe{in(ProtoTCP, SYN|ACK)}, "INVALID×1"},
		{"tcp FIN", []Probe{in(ProtoTCP, FIN)}, "INVALID×1"},
		{"tcp FIN+ACK", []Probe{in(ProtoTCP, FIN|ACK)}, "INVALID×1"},
		{"tcp RST", []Probe{in(ProtoTCP, RST)}, "INVALID×1"},
		{"tcp RST+ACK", []Probe{in(ProtoTCP, RST|ACK)}, "INVALID×1"},
		{"tcp no flags", []Probe{in(ProtoTCP, 0)}, "INVALID×1"},
		{"tcp SYN+FIN", []Probe{in(ProtoTCP, SYN|FIN)}, "INVALID×1"},
		{"tcp SYN+RST", []Probe{in(ProtoTCP, SYN|RST)}, "INVALID×1"},
		{"udp", []Probe{in(ProtoUDP, 0)}, "NEW×1"},
		{"sctp INIT", []Probe{in(ProtoSCTP, 0)}, "NEW×1"},
		{"protocol 253 (generic)", []Probe{other}, "NEW×1"},
		{"icmp echo request", []Probe{icmpIn(echo)}, "NEW×1"},
		{"icmp echo reply", []Probe{icmpIn(echoReply)}, "INVALID×1"},
		{"icmp unreachable quoting nothing", []Probe{icmpIn(unreach)}, "INVALID×1"},
		{"tcp SYN then second SYN", []Probe{in(ProtoTCP, SYN), in(ProtoTCP, SYN)}, "NEW×2"},
		{"tcp SYN, SYN+ACK reply with wrong ack", []Probe{fwd(ProtoTCP, SYN), reply(fwd(ProtoTCP, SYN), SYN|ACK)}, "INVALID×1+NEW×1"},
		{"tcp SYN, SYN+ACK reply", []Probe{fwd(ProtoTCP, SYN), synAck}, "ESTABLISHED×1+NEW×1"},
		{"tcp SYN, SYN+ACK, ACK", []Probe{fwd(ProtoTCP, SYN), synAck, ack}, "ESTABLISHED×2+NEW×1"},
		{"udp, reply", []Probe{udpOut, reply(udpOut, 0)}, "ESTABLISHED×1+NEW×1"},
		{"udp, icmp error quoting it", []Probe{udpOut, icmpErr}, "NEW×1+RELATED×1"},
	}
	if v6 {
		cases = append(cases, stateCase{"icmpv6 neighbour solicitation", []Probe{ns}, "UNTRACKED×1"})
	} else {
		cases = append(cases, stateCase{"icmp timestamp request", []Probe{icmpIn(13)}, "NEW×1"})
	}
	return cases
}

func TestConntrackFirstPacketStates(t *testing.T) {
	lab := New(t)
	for _, b := range []Backend{Legacy, NFT} {
		for _, v6 := range []bool{false, true} {
			if err := lab.Reset(); err != nil {
				t.Fatal(err)
			}
			if err := lab.RestoreIptables(b, v6, stateRuleset("")); err != nil {
				t.Fatal(err)
			}
			for _, c := range firstPacketCases(v6) {
				t.Run(fmt.Sprintf("%s/v6=%t/%s", b, v6, c.name), func(t *testing.T) {
					checkState(t, lab, b, v6, c)
				})
			}
		}
	}
}

// checkState flushes conntrack, zeroes counters, sends the case's probes and
// compares the states counted.
func checkState(t *testing.T, lab *Lab, b Backend, v6 bool, c stateCase) {
	t.Helper()
	if err := lab.FlushConntrack(); err != nil {
		t.Fatal(err)
	}
	if err := lab.ZeroCounters(b, v6); err != nil {
		t.Fatal(err)
	}
	if err := lab.InjectN(c.probes); err != nil {
		t.Fatal(err)
	}
	if got := observedState(t, lab, b, v6); got != c.want {
		t.Errorf("probes %v: got states %s, want %s", c.probes, got, c.want)
	}
}

func TestConntrackUntracked(t *testing.T) {
	lab := New(t)
	for _, b := range []Backend{Legacy, NFT} {
		for _, v6 := range []bool{false, true} {
			for _, target := range []string{"NOTRACK", "CT --notrack"} {
				t.Run(fmt.Sprintf("%s/v6=%t/%s", b, v6, target), func(t *testing.T) {
					if err := lab.Reset(); err != nil {
						t.Fatal(err)
					}
					if err := lab.RestoreIptables(b, v6, stateRuleset(target)); err != nil {
						t.Fatal(err)
					}
					src, dst := addr("198.18.0.7"), addr("198.51.100.1")
					if v6 {
						src, dst = addr("2001:db8:ff00::7"), addr("2001:db8:1::1")
					}
					p := Probe{Src: src, Dst: dst, Proto: ProtoUDP, SPort: 1000, DPort: 9, Via: "c0"}
					checkState(t, lab, b, v6, stateCase{"udp to 9", []Probe{p}, "UNTRACKED×1"})
				})
			}
		}
	}
}

// TestConntrackFlowListed checks that conntrack -L shows a probe's flow.
func TestConntrackFlowListed(t *testing.T) {
	lab := New(t)
	if err := lab.RestoreIptables(NFT, false, stateRuleset("")); err != nil {
		t.Fatal(err)
	}
	p := Probe{Src: addr("198.18.1.2"), Dst: addr("192.0.2.129"), Proto: ProtoTCP, SPort: 41000, DPort: 443, TCPFlags: SYN, Via: "c2"}
	if err := lab.Inject(p); err != nil {
		t.Fatal(err)
	}
	got, err := lab.ConntrackList()
	if err != nil {
		t.Fatal(err)
	}
	want := "src=198.18.1.2 dst=192.0.2.129 sport=41000 dport=443 [UNREPLIED]"
	if !strings.Contains(got, want) {
		t.Errorf("got conntrack table %q, want a line with %q", got, want)
	}
}

// TestConntrackEnabledBy records which rules switch conntrack on in a namespace:
// without one, no flow is tracked and the nat table's chains are never traversed.
func TestConntrackEnabledBy(t *testing.T) {
	cases := []struct {
		name, rules string
		want        bool
	}{
		{"filter rule only", "*filter\n-A INPUT -p tcp\nCOMMIT\n", false},
		{"empty nat table", "*nat\n-A PREROUTING -p tcp\nCOMMIT\n", false},
		{"MARK target", "*mangle\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n", false},
		{"REJECT target", "*filter\n-A INPUT -p udp --dport 7 -j REJECT\nCOMMIT\n", false},
		{"addrtype match", "*filter\n-A INPUT -m addrtype --dst-type LOCAL\nCOMMIT\n", false},
		{"conntrack match", "*filter\n-A INPUT -m conntrack --ctstate NEW\nCOMMIT\n", true},
		{"state match", "*filter\n-A INPUT -m state --state NEW\nCOMMIT\n", true},
		{"connmark match", "*filter\n-A INPUT -m connmark --mark 1\nCOMMIT\n", true},
		{"CONNMARK target", "*mangle\n-A PREROUTING -j CONNMARK --set-mark 1\nCOMMIT\n", true},
		{"DNAT in unused chain", "*nat\n:X - [0:0]\n-A X -p tcp -j DNAT --to-destination 203.0.113.2\nCOMMIT\n", true},
		{"MASQUERADE", "*nat\n-A POSTROUTING -o n9 -j MASQUERADE\nCOMMIT\n", true},
		{"NOTRACK in unused chain", "*raw\n:X - [0:0]\n-A X -j NOTRACK\nCOMMIT\n", false},
	}
	lab := New(t)
	for _, b := range []Backend{Legacy, NFT} {
		for _, c := range cases {
			t.Run(b.String()+"/"+c.name, func(t *testing.T) {
				if err := lab.Reset(); err != nil {
					t.Fatal(err)
				}
				if err := lab.RestoreIptables(b, false, c.rules); err != nil {
					t.Fatal(err)
				}
				p := Probe{Src: addr("198.18.0.9"), Dst: addr("198.51.100.1"), Proto: ProtoTCP, SPort: 42000, DPort: 25, TCPFlags: SYN, Via: "c0"}
				if err := lab.Inject(p); err != nil {
					t.Fatal(err)
				}
				list, err := lab.ConntrackList()
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Contains(list, "dport=25"); got != c.want {
					t.Errorf("rules %q: got tracked=%t, want %t (conntrack: %q)", c.rules, got, c.want, list)
				}
			})
		}
	}
}
