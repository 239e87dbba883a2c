package netfilter

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"
)

// TestCompactSizes pins the sizes of the records a large ruleset holds one
// of per rule (kube-proxy dumps: an address match, a DNAT, a jump each), so
// that they cannot silently regrow.
func TestCompactSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"Value", unsafe.Sizeof(Value{}), 56},
		{"NATStmt", unsafe.Sizeof(NATStmt{}), 56},
		{"Verdict", unsafe.Sizeof(Verdict{}), 32},
	} {
		if tc.got > tc.want {
			t.Errorf("unsafe.Sizeof(%s) = %d bytes, want at most %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestAddrValueRoundTrip(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.1.2.3", "255.255.255.255", "::", "::1", "2001:db8::1",
		"::ffff:10.1.2.3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1"} {
		a := netip.MustParseAddr(s)
		v := AddrValue(a)
		if v.AddrLo() != a || v.AddrHi() != a || !v.IsSingle() || v.String() != a.String() || !v.ContainsAddr(a) {
			t.Errorf("AddrValue(%s): lo %s hi %s single %v string %q contains %v", a, v.AddrLo(), v.AddrHi(), v.IsSingle(), v, v.ContainsAddr(a))
		}
	}
	zoned := AddrValue(netip.MustParseAddr("fe80::1%eth0"))
	if got := zoned.AddrLo(); got != netip.MustParseAddr("fe80::1") {
		t.Errorf("zoned address: got %s, want the zone dropped", got)
	}
	for _, s := range []string{"10.0.0.0/8", "192.0.2.7/32", "0.0.0.0/0", "2001:db8::/33", "::/0", "::ffff:10.0.0.0/104"} {
		p := netip.MustParsePrefix(s)
		v := PrefixValue(p)
		want := p.String()
		if p.IsSingleIP() {
			want = p.Addr().String()
		}
		if v.AddrLo() != p.Addr() || v.AddrHi() != LastAddr(p) || v.String() != want {
			t.Errorf("PrefixValue(%s): %s..%s %q", p, v.AddrLo(), v.AddrHi(), v)
		}
	}
	r := AddrRange(netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.1.9"))
	if r.String() != "10.0.0.5-10.0.1.9" || r.IsSingle() {
		t.Errorf("AddrRange: %q single %v", r, r.IsSingle())
	}
	for _, v := range []Value{IntValue(7), IntRange(1, 9), IfaceValue("eth+"), {}} {
		if v.AddrLo().IsValid() || v.AddrHi().IsValid() || v.ContainsAddr(netip.MustParseAddr("0.0.0.7")) {
			t.Errorf("%v: not an address value, got %s..%s", v, v.AddrLo(), v.AddrHi())
		}
	}
}

// TestContainsAddr compares ContainsAddr with the comparison of whole
// netip.Addrs it replaces, on random ranges and addresses of both
// families (IPv4-mapped IPv6 ones included).
func TestContainsAddr(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	addr := func() netip.Addr {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.IntN(4)) // few distinct bytes: many equal and near addresses
		}
		switch r.IntN(3) {
		case 0:
			return netip.AddrFrom4([4]byte(b[:4]))
		case 1:
			b[10], b[11] = 0xff, 0xff
			copy(b[:10], make([]byte, 10))
		}
		return netip.AddrFrom16(b)
	}
	want := func(lo, hi, a netip.Addr) bool {
		return a.Is4() == lo.Is4() && a.Compare(lo) >= 0 && a.Compare(hi) <= 0
	}
	for range 20000 {
		lo, hi, a := addr(), addr(), addr()
		if lo.Is4() != hi.Is4() {
			continue
		}
		v := AddrRange(lo, hi)
		if got := v.ContainsAddr(a); got != want(lo, hi, a) {
			t.Fatalf("AddrRange(%s, %s).ContainsAddr(%s) = %v", lo, hi, a, got)
		}
		m := &FieldMatch{Field: FieldDst, Values: []Value{IntValue(1), v}}
		if got := m.inAddr(a); got != want(lo, hi, a) {
			t.Fatalf("FieldMatch{%s}.inAddr(%s) = %v", v, a, got)
		}
	}
	if AddrValue(netip.MustParseAddr("10.0.0.1")).ContainsAddr(netip.Addr{}) {
		t.Error("the zero Addr is in no value")
	}
	// An end of the other family ends the range at the last address of
	// lo's family.
	mixed := AddrRange(netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("::1"))
	if !mixed.ContainsAddr(netip.MustParseAddr("255.255.255.255")) || mixed.ContainsAddr(netip.MustParseAddr("::1")) {
		t.Errorf("mixed-family range %s", mixed)
	}
}

func TestNATStmtAddrs(t *testing.T) {
	s := &NATStmt{Kind: NATDNAT}
	if s.AddrLo().IsValid() || s.AddrHi().IsValid() {
		t.Errorf("no address set: got %s-%s", s.AddrLo(), s.AddrHi())
	}
	lo, hi := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::9")
	s.SetAddrs(lo, hi)
	if s.AddrLo() != lo || s.AddrHi() != hi {
		t.Errorf("SetAddrs(%s, %s): got %s-%s", lo, hi, s.AddrLo(), s.AddrHi())
	}
	s.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.Addr{})
	if s.AddrLo() != netip.MustParseAddr("10.0.0.1") || s.AddrHi() != s.AddrLo() {
		t.Errorf("SetAddrs with no hi: got %s-%s", s.AddrLo(), s.AddrHi())
	}
}

func TestRejectTypeNames(t *testing.T) {
	for r := RejectNone + 1; r < RejectUnknown; r++ {
		if got, ok := ParseRejectType(r.String()); !ok || got != r {
			t.Errorf("ParseRejectType(%q) = %v, %v; want %d", r, got, ok, r)
		}
	}
	for _, s := range []string{"", "unknown", "tcp-rst", "port-unreach"} {
		if r, ok := ParseRejectType(s); ok {
			t.Errorf("ParseRejectType(%q) = %v, want none", s, r)
		}
	}
	v := Verdict{Kind: VerdictReject, RejectWith: RejectTCPReset}
	if v.String() != "REJECT --reject-with tcp-reset" || !v.RejectIsReset() {
		t.Errorf("%v: RejectIsReset %v", v, v.RejectIsReset())
	}
}
