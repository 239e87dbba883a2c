package netns

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// TestChecksums checks every checksum the builder writes by verifying it the way a
// receiver does: the one's-complement sum over header (and pseudo-header) is 0xffff.
func TestChecksums(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Probe
	}{
		{"tcp4", Probe{Src: addr("198.18.0.1"), Dst: addr("198.51.100.1"), Proto: ProtoTCP, SPort: 1, DPort: 2, TCPFlags: SYN}},
		{"tcp6 odd length", Probe{Src: addr("2001:db8:ff00::1"), Dst: addr("2001:db8:1::1"), Proto: ProtoTCP, TCPFlags: ACK, Length: 101}},
		{"udp4", Probe{Src: addr("198.18.0.1"), Dst: addr("198.51.100.1"), Proto: ProtoUDP, SPort: 53, DPort: 53, Length: 300}},
		{"udp6", Probe{Src: addr("2001:db8:ff00::1"), Dst: addr("2001:db8:1::1"), Proto: ProtoUDP, SPort: 53, DPort: 53}},
		{"icmp", Probe{Src: addr("198.18.0.1"), Dst: addr("198.51.100.1"), Proto: ProtoICMP, ICMPType: 8}},
		{"icmpv6", Probe{Src: addr("2001:db8:ff00::1"), Dst: addr("2001:db8:1::1"), Proto: ProtoICMPv6, ICMPType: 128}},
		{"sctp4", Probe{Src: addr("198.18.0.1"), Dst: addr("198.51.100.1"), Proto: ProtoSCTP, SPort: 5, DPort: 6}},
		{"gre4", Probe{Src: addr("198.18.0.1"), Dst: addr("198.51.100.1"), Proto: 47, Length: 64}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkt, err := c.p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			hdr := 40
			if c.p.Src.Is4() {
				hdr = 20
				if got := fold(sum(0, pkt[:20])); got != 0 {
					t.Errorf("got IPv4 header check %#x, want 0", got)
				}
			}
			if want := max(c.p.Length, len(pkt)); len(pkt) != want {
				t.Errorf("got length %d, want %d", len(pkt), want)
			}
			seg := pkt[hdr:]
			switch c.p.Proto {
			case ProtoTCP, ProtoUDP, ProtoICMPv6:
				if got := fold(sum(c.p.pseudo(len(seg)), seg)); got != 0 {
					t.Errorf("got transport check %#x, want 0", got)
				}
			case ProtoICMP:
				if got := fold(sum(0, seg)); got != 0 {
					t.Errorf("got ICMP check %#x, want 0", got)
				}
			case ProtoSCTP:
				stored := binary.LittleEndian.Uint32(seg[8:])
				binary.LittleEndian.PutUint32(seg[8:], 0)
				if want := crc32.Checksum(seg, crc32.MakeTable(crc32.Castagnoli)); stored != want {
					t.Errorf("got SCTP crc %#x, want %#x", stored, want)
				}
			}
		})
	}
}

func TestBytesRejectsMixedFamilies(t *testing.T) {
	p := Probe{Src: addr("198.18.0.1"), Dst: addr("2001:db8:1::1"), Proto: ProtoTCP}
	if _, err := p.Bytes(); err == nil {
		t.Errorf("got no error for mixed families, want one")
	}
}

func TestParseSaveCounters(t *testing.T) {
	text := "*filter\n:INPUT DROP [3:180]\n:X - [0:0]\n[1:60] -A INPUT -p tcp -j X\n[2:120] -A INPUT -j ACCEPT\n[0:0] -A X -j RETURN\nCOMMIT\n"
	got, err := ParseSaveCounters(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Counter{
		{"filter", "INPUT", 0, "DROP", 3, 180},
		{"filter", "INPUT", 1, "-A INPUT -p tcp -j X", 1, 60},
		{"filter", "INPUT", 2, "-A INPUT -j ACCEPT", 2, 120},
		{"filter", "X", 1, "-A X -j RETURN", 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d counters %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("counter %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseProto(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint8
		err  bool
	}{{"tcp", 6, false}, {"ipv6-icmp", 58, false}, {"icmpv6", 58, false}, {"47", 47, false}, {"256", 0, true}, {"gre", 0, true}} {
		got, err := ParseProto(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseProto(%q): got %d, %v; want %d, error %t", c.in, got, err, c.want, c.err)
		}
	}
}

func FuzzParseSaveCounters(f *testing.F) {
	f.Add("*filter\n:INPUT DROP [3:180]\n[1:60] -A INPUT -p tcp -j X\nCOMMIT\n")
	f.Add("[x:y] -A\n:\n*")
	f.Fuzz(func(t *testing.T, text string) {
		cs, err := ParseSaveCounters(text)
		if err != nil && cs != nil {
			t.Errorf("got counters %v with error %v", cs, err)
		}
	})
}
