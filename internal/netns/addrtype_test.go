package netns

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestAddrtypeOfProbes records what addrtype sees for probe sources and for the
// lab's destinations. IPv4 asks only the local routing table (anything not
// local, broadcast or multicast is UNICAST, whatever the main table says); IPv6
// looks the address up in the full routing table and sets several bits at once:
// a node address is LOCAL and UNICAST, an address under an "unreachable" route
// is UNICAST and UNREACHABLE.
func TestAddrtypeOfProbes(t *testing.T) {
	types4 := []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT"}
	types6 := []string{"UNSPEC", "UNICAST", "LOCAL", "ANYCAST", "MULTICAST", "UNREACHABLE"}
	cases := []struct {
		name     string
		v6       bool
		probe    Probe
		src, dst string
	}{
		{"v4 probe source to node", false, Probe{Src: addr("198.18.0.7"), Dst: addr("198.51.100.1"), Via: "c0"}, "UNICAST", "LOCAL"},
		{"v4 to broadcast", false, Probe{Src: addr("198.18.0.7"), Dst: addr("198.51.100.255"), Via: "c0"}, "UNICAST", "BROADCAST"},
		{"v4 to multicast", false, Probe{Src: addr("198.18.0.7"), Dst: addr("224.0.0.1"), Via: "c0"}, "UNICAST", "MULTICAST"},
		{"v4 forwarded", false, Probe{Src: addr("198.18.0.7"), Dst: addr("10.1.2.3"), Via: "c0"}, "UNICAST", "UNICAST"},
		{"v6 probe source to node", true, Probe{Src: addr("2001:db8:ff00::7"), Dst: addr("2001:db8:1::1"), Via: "c0"}, "UNICAST,UNREACHABLE", "LOCAL,UNICAST"},
		{"v6 to multicast", true, Probe{Src: addr("2001:db8:ff00::7"), Dst: addr("ff02::1"), Via: "c0"}, "UNICAST,UNREACHABLE", "MULTICAST"},
		{"v6 forwarded", true, Probe{Src: addr("2001:db8:ff00::7"), Dst: addr("2001:db8:aa00::5"), Via: "c0"}, "UNICAST,UNREACHABLE", "UNICAST"},
	}
	lab := New(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			types := types4
			if c.v6 {
				types = types6
			}
			var sb strings.Builder
			sb.WriteString("*raw\n:PREROUTING ACCEPT [0:0]\n")
			for _, ty := range types {
				fmt.Fprintf(&sb, "-A PREROUTING -m addrtype --src-type %s\n-A PREROUTING -m addrtype --dst-type %s\n", ty, ty)
			}
			sb.WriteString("COMMIT\n")
			if err := lab.Reset(); err != nil {
				t.Fatal(err)
			}
			if err := lab.RestoreIptables(NFT, c.v6, sb.String()); err != nil {
				t.Fatal(err)
			}
			p := c.probe
			p.Proto, p.DPort = ProtoUDP, 9
			if err := lab.Inject(p); err != nil {
				t.Fatal(err)
			}
			save, err := lab.SaveIptables(NFT, c.v6)
			if err != nil {
				t.Fatal(err)
			}
			cs, _ := ParseSaveCounters(save)
			var src, dst []string
			for _, k := range cs {
				if k.Rule == 0 || k.Packets == 0 {
					continue
				}
				f := strings.Fields(k.Text)
				if f[len(f)-2] == "--src-type" {
					src = append(src, f[len(f)-1])
				} else {
					dst = append(dst, f[len(f)-1])
				}
			}
			slices.Sort(src)
			slices.Sort(dst)
			if got := strings.Join(src, ","); got != c.src {
				t.Errorf("probe %v: got src-type %s, want %s", p, got, c.src)
			}
			if got := strings.Join(dst, ","); got != c.dst {
				t.Errorf("probe %v: got dst-type %s, want %s", p, got, c.dst)
			}
		})
	}
}
