package netns

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// hookRuleset has one match-all counter rule in every built-in chain of every table.
func hookRuleset() string {
	var sb strings.Builder
	for _, t := range Tables {
		fmt.Fprintf(&sb, "*%s\n", t)
		for _, c := range BuiltinChains[t] {
			fmt.Fprintf(&sb, ":%s ACCEPT [0:0]\n", c)
		}
		for _, c := range BuiltinChains[t] {
			fmt.Fprintf(&sb, "-A %s\n", c)
		}
		if t == "filter" {
			// Conntrack runs in a namespace only once a rule needs it; this
			// unreferenced chain enables it without moving any counter.
			sb.WriteString(":EXPO-CT - [0:0]\n-A EXPO-CT -m conntrack --ctstate INVALID\n")
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String()
}

// moved returns "table/chain" → packets summed over the chain's rules, for every chain where a rule counted.
func moved(t *testing.T, lab *Lab, b Backend, v6 bool) map[string]uint64 {
	t.Helper()
	save, err := lab.SaveIptables(b, v6)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseSaveCounters(save)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, c := range cs {
		if c.Rule > 0 && c.Packets > 0 {
			got[c.Table+"/"+c.Chain] += c.Packets
		}
	}
	return got
}

func ones(keys ...string) map[string]uint64 {
	m := map[string]uint64{}
	for _, k := range keys {
		m[k] = 1
	}
	return m
}

var (
	pathInput = ones("raw/PREROUTING", "mangle/PREROUTING", "nat/PREROUTING",
		"mangle/INPUT", "filter/INPUT", "security/INPUT", "nat/INPUT")
	pathForward = ones("raw/PREROUTING", "mangle/PREROUTING", "nat/PREROUTING",
		"mangle/FORWARD", "filter/FORWARD", "security/FORWARD", "mangle/POSTROUTING", "nat/POSTROUTING")
	pathOutput = ones("raw/OUTPUT", "mangle/OUTPUT", "nat/OUTPUT", "filter/OUTPUT", "security/OUTPUT",
		"mangle/POSTROUTING", "nat/POSTROUTING")
	// A locally generated packet to loopback comes back in through lo; its
	// conntrack entry already holds both NAT bindings, so nat PREROUTING and
	// nat INPUT are not consulted again.
	pathLoopback = ones("raw/OUTPUT", "mangle/OUTPUT", "nat/OUTPUT", "filter/OUTPUT", "security/OUTPUT",
		"mangle/POSTROUTING", "nat/POSTROUTING",
		"raw/PREROUTING", "mangle/PREROUTING", "mangle/INPUT", "filter/INPUT", "security/INPUT")
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestHooksOneProbe(t *testing.T) {
	lab := New(t)
	type tc struct {
		name  string
		probe Probe
		want  map[string]uint64
	}
	cases := func(v6 bool) []tc {
		src, local, remote, lo := addr("198.18.0.7"), addr("198.51.100.1"), addr("203.0.113.2"), addr("127.0.0.1")
		if v6 {
			src, local, remote, lo = addr("2001:db8:ff00::7"), addr("2001:db8:1::1"), addr("2001:db8:2::2"), addr("::1")
		}
		syn := Probe{Src: src, Proto: ProtoTCP, SPort: 40000, DPort: 22, TCPFlags: SYN}
		with := func(dst netip.Addr, via string, fromNode bool) Probe {
			p := syn
			p.Dst, p.Via, p.FromNode = dst, via, fromNode
			return p
		}
		ttl1 := with(remote, "c0", false)
		ttl1.TTL = 1
		return []tc{
			{"forward with ttl 1 dies before FORWARD", ttl1, ones("raw/PREROUTING", "mangle/PREROUTING", "nat/PREROUTING")},
			{"input via c0", with(local, "c0", false), pathInput},
			{"input via c2 to n1 address", with(Links[1].addr(v6), "c2", false), pathInput},
			{"forward", with(remote, "c0", false), pathForward},
			{"from node out", with(remote, "", true), pathOutput},
			{"from node to loopback", with(lo, "", true), pathLoopback},
		}
	}
	for _, b := range []Backend{Legacy, NFT} {
		for _, v6 := range []bool{false, true} {
			for _, c := range cases(v6) {
				t.Run(fmt.Sprintf("%s/v6=%t/%s", b, v6, c.name), func(t *testing.T) {
					if err := lab.Reset(); err != nil {
						t.Fatal(err)
					}
					if err := lab.RestoreIptables(b, v6, hookRuleset()); err != nil {
						t.Fatal(err)
					}
					if err := lab.Inject(c.probe); err != nil {
						t.Fatal(err)
					}
					if got := moved(t, lab, b, v6); !maps.Equal(got, c.want) {
						t.Errorf("probe %v: got counters %v, want %v", c.probe, got, c.want)
					}
				})
			}
		}
	}
}

func (k Link) addr(v6 bool) netip.Addr {
	if v6 {
		return k.Addr6.Addr()
	}
	return k.Addr4.Addr()
}

func TestIdleNoTraffic(t *testing.T) {
	lab := New(t)
	for _, v6 := range []bool{false, true} {
		if err := lab.RestoreIptables(NFT, v6, hookRuleset()); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is sent: any counter that moves is noise (ND, MLD, DAD, RS).
	time.Sleep(2 * time.Second) // let any periodic noise show up; not a timing assertion
	for _, v6 := range []bool{false, true} {
		if got := moved(t, lab, NFT, v6); len(got) != 0 {
			t.Errorf("v6=%t: got counters %v on an idle lab, want none", v6, got)
		}
	}
}

func TestCleanupRemovesNamespaces(t *testing.T) {
	var names []string
	t.Run("lab", func(t *testing.T) {
		lab := New(t)
		names = []string{lab.ClientNS, lab.NodeNS, lab.ServerNS}
	})
	for _, n := range names {
		if _, err := os.Stat("/run/netns/" + n); err == nil {
			t.Errorf("namespace %s still exists after cleanup", n)
		}
	}
}

func TestListenDial(t *testing.T) {
	lab := New(t)
	for _, a := range []string{"198.51.100.1:8080", "[2001:db8:3::1]:8080"} {
		t.Run(a, func(t *testing.T) {
			ln, err := lab.Listen(lab.NodeNS, "tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				if c, err := ln.Accept(); err == nil {
					c.Write([]byte("hi"))
					c.Close()
				}
			}()
			c, err := lab.Dial(lab.ClientNS, "tcp", a, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2)
			if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
				t.Errorf("got %q, %v from %s, want \"hi\"", buf, err, a)
			}
			c.Close()
		})
	}
}

// TestForwardDecrementsTTL records that the kernel decrements the TTL (hop limit)
// of a forwarded packet before the FORWARD hook: FORWARD and POSTROUTING see 63
// for a packet that arrived with 64, PREROUTING sees 64.
func TestForwardDecrementsTTL(t *testing.T) {
	lab := New(t)
	for _, v6 := range []bool{false, true} {
		mod, opt, src, dst := "ttl", "--ttl-eq", addr("198.18.0.7"), addr("203.0.113.2")
		if v6 {
			mod, opt, src, dst = "hl", "--hl-eq", addr("2001:db8:ff00::7"), addr("2001:db8:2::2")
		}
		var sb strings.Builder
		sb.WriteString("*mangle\n")
		for _, c := range []string{"PREROUTING", "FORWARD", "POSTROUTING"} {
			for _, v := range []int{63, 64} {
				fmt.Fprintf(&sb, "-A %s -m %s %s %d\n", c, mod, opt, v)
			}
		}
		sb.WriteString("COMMIT\n")
		for _, b := range []Backend{Legacy, NFT} {
			t.Run(fmt.Sprintf("%s/v6=%t", b, v6), func(t *testing.T) {
				if err := lab.Reset(); err != nil {
					t.Fatal(err)
				}
				if err := lab.RestoreIptables(b, v6, sb.String()); err != nil {
					t.Fatal(err)
				}
				p := Probe{Src: src, Dst: dst, Proto: ProtoUDP, SPort: 1, DPort: 2, TTL: 64, Via: "c0"}
				if err := lab.Inject(p); err != nil {
					t.Fatal(err)
				}
				save, err := lab.SaveIptables(b, v6)
				if err != nil {
					t.Fatal(err)
				}
				cs, _ := ParseSaveCounters(save)
				var got []string
				for _, c := range cs {
					if c.Rule > 0 && c.Packets > 0 {
						f := strings.Fields(c.Text)
						got = append(got, c.Chain+"="+f[len(f)-1])
					}
				}
				want := "PREROUTING=64 FORWARD=63 POSTROUTING=63"
				if strings.Join(got, " ") != want {
					t.Errorf("got %v, want %s", got, want)
				}
			})
		}
	}
}

// TestRejectSendsNothing checks that a REJECT's reply (RST or ICMP error) to a
// probe source never leaves: the node's unreachable route stops it before OUTPUT.
func TestRejectSendsNothing(t *testing.T) {
	lab := New(t)
	for _, with := range []string{"tcp-reset", "icmp-port-unreachable"} {
		t.Run(with, func(t *testing.T) {
			rs := hookRuleset()
			rs = strings.Replace(rs, "-A OUTPUT\n:EXPO-CT", "-A OUTPUT\n-A INPUT -p tcp -j REJECT --reject-with "+with+"\n:EXPO-CT", 1)
			if err := lab.Reset(); err != nil {
				t.Fatal(err)
			}
			if err := lab.RestoreIptables(Legacy, false, rs); err != nil {
				t.Fatal(err)
			}
			p := Probe{Src: addr("198.18.3.4"), Dst: addr("198.51.100.1"), Proto: ProtoTCP, SPort: 999, DPort: 80, TCPFlags: SYN, Via: "c0"}
			if err := lab.Inject(p); err != nil {
				t.Fatal(err)
			}
			got := moved(t, lab, Legacy, false)
			for k := range got {
				if strings.HasSuffix(k, "OUTPUT") || strings.HasSuffix(k, "POSTROUTING") {
					t.Errorf("REJECT --reject-with %s: got %s moved %v, want no output traffic", with, k, got)
				}
			}
			if got["filter/INPUT"] != 2 {
				t.Errorf("got counters %v, want filter/INPUT to count the probe in both its rules", got)
			}
		})
	}
}

// TestSecurityTablePriority records a real backend difference (iptables 1.8.9):
// x_tables registers the security table at priority 50, iptables-nft at 150. In
// INPUT, legacy runs security before nat INPUT (priority 100) and nft after it,
// so a packet security drops still crosses nat INPUT with nft.
func TestSecurityTablePriority(t *testing.T) {
	lab := New(t)
	rs := "*nat\n:INPUT ACCEPT [0:0]\n-A INPUT\nCOMMIT\n*security\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n" +
		"*filter\n:EXPO-CT - [0:0]\n-A EXPO-CT -m conntrack --ctstate INVALID\nCOMMIT\n"
	for _, v6 := range []bool{false, true} {
		src, dst := addr("198.18.0.7"), addr("198.51.100.1")
		if v6 {
			src, dst = addr("2001:db8:ff00::7"), addr("2001:db8:1::1")
		}
		for b, want := range map[Backend]uint64{Legacy: 0, NFT: 1} {
			t.Run(fmt.Sprintf("%s/v6=%t", b, v6), func(t *testing.T) {
				if err := lab.Reset(); err != nil {
					t.Fatal(err)
				}
				if err := lab.RestoreIptables(b, v6, rs); err != nil {
					t.Fatal(err)
				}
				p := Probe{Src: src, Dst: dst, Proto: ProtoTCP, SPort: 5, DPort: 6, TCPFlags: SYN, Via: "c0"}
				if err := lab.Inject(p); err != nil {
					t.Fatal(err)
				}
				got := moved(t, lab, b, v6)
				if got["nat/INPUT"] != want || got["security/INPUT"] != 1 {
					t.Errorf("got counters %v, want security/INPUT 1 and nat/INPUT %d", got, want)
				}
			})
		}
	}
}
