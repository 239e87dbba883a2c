package netfilter

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLastAddr(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"10.0.0.0/8", "10.255.255.255"}, {"192.0.2.128/25", "192.0.2.255"}, {"192.0.2.7/32", "192.0.2.7"},
		{"0.0.0.0/0", "255.255.255.255"}, {"2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"}, {"10.1.2.3/20", "10.1.15.255"},
		{"198.18.0.0/15", "198.19.255.255"}, {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {"2001:db8::1/128", "2001:db8::1"},
	}
	for _, tt := range tests {
		if got := LastAddr(netip.MustParsePrefix(tt.prefix)).String(); got != tt.want {
			t.Errorf("LastAddr(%s) = %s, want %s", tt.prefix, got, tt.want)
		}
	}
}

func TestAddrType(t *testing.T) {
	env := NewEnv(netip.MustParseAddr("192.0.2.10"))
	env.Ifaces = []Iface{{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24")}}}
	tests := map[string]AddrType{
		"192.0.2.10": AddrTypeLocal, "127.0.0.5": AddrTypeLocal, "192.0.2.255": AddrTypeBroadcast,
		"255.255.255.255": AddrTypeBroadcast, "0.0.0.0": AddrTypeBroadcast, "224.0.0.1": AddrTypeMulticast,
		"198.51.100.1": AddrTypeUnicast, "::1": AddrTypeLocal, "ff02::1": AddrTypeMulticast,
	}
	for a, want := range tests {
		if got := env.AddrType(netip.MustParseAddr(a)); got != want {
			t.Errorf("AddrType(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestFieldMatchAbsentFields(t *testing.T) {
	icmp := &Packet{Family: IPv4, Proto: ProtoICMP, ICMPType: 8}
	tcp := &Packet{Family: IPv4, Proto: ProtoTCP, DPort: 80}
	port := &FieldMatch{Field: FieldDPort, Values: []Value{IntValue(80)}}
	notPort := &FieldMatch{Field: FieldDPort, Values: []Value{IntValue(80)}, Neg: true}
	notIface := &FieldMatch{Field: FieldInIface, Values: []Value{IfaceValue("eth0")}, Neg: true, AbsentMatches: true}
	tests := []struct {
		name string
		m    Expr
		p    *Packet
		want OutcomeKind
	}{
		{"port on tcp", port, tcp, OutNext},
		{"port on icmp: no header, no match", port, icmp, OutNoMatch},
		{"negated port on icmp: still no match", notPort, icmp, OutNoMatch},
		{"negated interface on a packet without one", notIface, &Packet{}, OutNext},
		{"interface wildcard", &FieldMatch{Field: FieldInIface, Values: []Value{IfaceValue("eth+")}}, &Packet{InIface: "eth12"}, OutNext},
		{"masked mark", &FieldMatch{Field: FieldMark, Mask: 0xff, Values: []Value{IntValue(2)}}, &Packet{Mark: 0x4002}, OutNext},
		{"mark value outside mask never matches", &FieldMatch{Field: FieldMark, Mask: 0x4000, Values: []Value{IntValue(6)}}, &Packet{Mark: 0x4006}, OutNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Eval(&Ctx{Pkt: tt.p}).Kind; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMarkStatements(t *testing.T) {
	tests := []struct {
		name        string
		value, mask uint32
		before      uint32
		want        uint32
	}{
		{"or 0x4000", 0x4000, 0x4000, 0x1, 0x4001},
		{"xor 0x4000 (kube-proxy's clear)", 0x4000, 0, 0x4001, 0x1},
		{"and ~0x4000", 0, 0x4000, 0x4001, 0x1},
		{"set 0x1/0xff", 0x1, 0xff, 0x4f0, 0x401},
	}
	for _, tt := range tests {
		p := &Packet{Mark: tt.before}
		(&MarkStmt{Value: tt.value, Mask: tt.mask}).Eval(&Ctx{Pkt: p})
		if p.Mark != tt.want {
			t.Errorf("%s: mark 0x%x, want 0x%x", tt.name, p.Mark, tt.want)
		}
	}
}

func TestNATPort(t *testing.T) {
	s := &NATStmt{Kind: NATDNAT, PortLo: 8000, PortHi: 8010}
	s.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.Addr{})
	for _, tt := range []struct{ in, want uint16 }{{8005, 8005}, {80, 8000}} {
		p := &Packet{Family: IPv4, Proto: ProtoTCP, Dst: netip.MustParseAddr("192.0.2.1"), DPort: tt.in}
		o := s.Eval(&Ctx{Pkt: p, Env: NewEnv()})
		if o.Verdict.Kind != VerdictAccept || p.DPort != tt.want || p.Dst.String() != "10.0.0.1" || !p.CT.DNAT {
			t.Errorf("DNAT of port %d: got %s:%d (%v), want 10.0.0.1:%d", tt.in, p.Dst, p.DPort, o.Verdict, tt.want)
		}
	}
}

func TestSetLookup(t *testing.T) {
	s := &Set{Name: "svc", KeyTypes: []string{"ipv4_addr", "inet_proto", "inet_service"}, Elements: []SetElement{
		{Key: []Value{AddrValue(netip.MustParseAddr("10.0.0.1")), IntValue(6), IntValue(80)}},
		{Key: []Value{PrefixValue(netip.MustParsePrefix("10.1.0.0/16")), IntValue(17), IntRange(1000, 2000)}},
	}}
	k := func(a string, proto, port uint64) []KeyVal {
		return []KeyVal{{Kind: ValAddr, Addr: netip.MustParseAddr(a)}, {Kind: ValInt, Int: proto}, {Kind: ValInt, Int: port}}
	}
	for _, tt := range []struct {
		keys []KeyVal
		want int
	}{{k("10.0.0.1", 6, 80), 0}, {k("10.0.0.1", 6, 81), -1}, {k("10.1.2.3", 17, 1500), 1}, {k("10.1.2.3", 6, 1500), -1}} {
		if got := s.Lookup(tt.keys); got != tt.want {
			t.Errorf("Lookup(%v) = %d, want %d", tt.keys, got, tt.want)
		}
	}
}

// TestChainIndexEqualsScan: the candidates an index gives are exactly the
// rules a linear scan could match, in order.
func TestChainIndexEqualsScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := &Chain{Name: "KUBE-SERVICES"}
	addr := func() netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(20))}) }
	for i := 0; i < 200; i++ {
		var exprs []Expr
		if r.IntN(5) > 0 {
			exprs = append(exprs, &FieldMatch{Field: FieldDst, Values: []Value{AddrValue(addr())}})
		}
		exprs = append(exprs, &CommentMatch{Text: "x"}, &VerdictExpr{V: Verdict{Kind: VerdictAccept}})
		c.AddRule(&Rule{Exprs: exprs})
	}
	ix := buildIndex(c)
	if ix == nil || ix.Field != FieldDst {
		t.Fatalf("chain of 200 rules, 80%% pinned on daddr: got index %+v", ix)
	}
	for i := 0; i < 50; i++ {
		p := &Packet{Family: IPv4, Dst: addr()}
		var want []int32
		for j, rule := range c.Rules {
			if m, ok := rule.Exprs[0].(*FieldMatch); !ok || m.Eval(&Ctx{Pkt: p}).Kind == OutNext {
				want = append(want, int32(j))
			}
		}
		if diff := cmp.Diff(want, ix.Candidates(p, nil)); diff != "" {
			t.Fatalf("candidates for %s (-scan +index):\n%s", p.Dst, diff)
		}
	}
}

func TestParseErrorQuotesAndShortens(t *testing.T) {
	e := Errorf("f.rules", 3, 7, string(make([]byte, 500)), "bad %s", "thing")
	got := e.Error()
	if len(got) > 300 || got[:len("f.rules:3:7: bad thing")] != "f.rules:3:7: bad thing" {
		t.Errorf("got %q", got)
	}
}
