package nftables

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// observer is a table whose last chain on every hook counts what reaches
// it, so that where a packet went shows even when the rules it crossed
// cannot carry a counter (verdict maps, NAT maps).
const observer = `table inet zobserve {
	chain c_pre { type filter hook prerouting priority 500; counter; }
	chain c_in { type filter hook input priority 500; counter; }
	chain c_fwd { type filter hook forward priority 500; counter; }
	chain c_out { type filter hook output priority 500; counter; }
	chain c_post { type filter hook postrouting priority 500; counter; }
}
`

// withCounters rewrites a `nft -j list ruleset` capture into a JSON batch
// `nft -j -f` loads: handles dropped, objects ordered tables, chains,
// sets, rules (maps refer to chains), a counter in every rule just before
// its verdict (none in rules whose verdict comes from a map, where a
// counter would also count the misses), and a final counter-only rule in
// every chain. rewrite edits the text first (addresses of the lab).
func withCounters(t *testing.T, capture []byte, rewrite *strings.Replacer) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(rewrite.Replace(string(capture)))))
	dec.UseNumber()
	var doc struct{ Nftables []map[string]any }
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	order := map[string]int{"table": 0, "chain": 1, "set": 2, "map": 2, "flowtable": 2, "rule": 3}
	var out []map[string]any
	for _, o := range doc.Nftables {
		for k, v := range o {
			m, ok := v.(map[string]any)
			if _, known := order[k]; !known || !ok {
				continue
			}
			delete(m, "handle")
			if k == "rule" {
				m["expr"] = addCounter(m["expr"].([]any))
			}
			out = append(out, o)
			if k == "chain" {
				defer func(m map[string]any) {
					out = append(out, map[string]any{"rule": map[string]any{"family": m["family"], "table": m["table"],
						"chain": m["name"], "expr": []any{map[string]any{"counter": nil}}}})
				}(m)
			}
		}
	}
	return marshalBatch(t, func() []map[string]any {
		slices.SortStableFunc(out, func(a, b map[string]any) int { return order[firstKey(a)] - order[firstKey(b)] })
		return out
	})
}

func marshalBatch(t *testing.T, objs func() []map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"nftables": objs()})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}

// addCounter inserts a counter before a rule's verdict, or at its end.
func addCounter(stmts []any) []any {
	last := len(stmts)
	for i, st := range stmts {
		k, v, _ := single(st)
		switch k {
		case "counter":
			return stmts
		case "vmap":
			return stmts
		case "dnat", "snat":
			if m, ok := v.(map[string]any); ok {
				if ak, _, ok := single(m["addr"]); ok && ak == "map" {
					return stmts
				}
			}
		}
		if _, ok := verdictOf(k, v); ok || k == "reject" || k == "dnat" || k == "snat" || k == "masquerade" || k == "redirect" {
			last = min(last, i)
		}
	}
	out := append([]any{}, stmts[:last]...)
	out = append(out, map[string]any{"counter": nil})
	return append(out, stmts[last:]...)
}

// loadBatch loads a JSON batch into the node.
func loadBatch(t *testing.T, lab *netns.Lab, batch string) {
	t.Helper()
	if _, err := lab.Run(lab.NodeNS, batch, "nft", "-j", "-f", "-"); err != nil {
		t.Fatalf("load JSON batch: %v", err)
	}
}

func tcp(src, dst string, dport uint16, via string) netns.Probe {
	return netns.Probe{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: netns.ProtoTCP,
		SPort: 40000, DPort: dport, TCPFlags: netns.SYN, Via: via, FromNode: via == ""}
}

func udp(src, dst string, dport uint16, via string) netns.Probe {
	p := tcp(src, dst, dport, via)
	p.Proto, p.TCPFlags = netns.ProtoUDP, 0
	return p
}

func ping(src, dst, via string) netns.Probe {
	p := netns.Probe{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: netns.ProtoICMP, ICMPType: 8, Via: via, FromNode: via == ""}
	if p.Dst.Is6() {
		p.Proto, p.ICMPType = netns.ProtoICMPv6, 128
	}
	return p
}

// kubeProxyProbes aim at every kind of Service of the kube-proxy capture
// (the node address 192.0.2.2 rewritten to the lab's 192.0.2.129).
func kubeProxyProbes() []netns.Probe {
	s1, s2, node := "198.18.0.1", "198.18.3.4", "192.0.2.129"
	var ps []netns.Probe
	for _, src := range []string{s1, s2, s1} {
		ps = append(ps, tcp(src, "10.0.0.10", 80, "c0"), tcp(src, "10.0.0.10", 443, "c2"), tcp(src, "10.0.0.10", 81, "c0"),
			tcp(src, "10.0.0.20", 80, "c0"), tcp(src, "10.0.0.60", 80, "c0"), tcp(src, "10.0.0.1", 443, "c0"),
			tcp(src, node, 30080, "c2"), tcp(src, node, 30081, "c2"), tcp(src, node, 30082, "c2"), tcp(src, node, 30099, "c2"),
			tcp(src, "203.0.113.50", 80, "c0"), tcp(src, "203.0.113.51", 80, "c0"), tcp(src, "192.0.2.3", 80, "c0"),
			udp(src, "10.0.0.70", 53, "c0"), udp(src, "10.0.0.70", 54, "c0"), tcp(src, "10.0.0.80", 80, "c0"),
			tcp(src, "10.0.0.10", 80, ""), tcp(src, "10.0.0.60", 80, ""), tcp(src, "10.0.0.80", 80, ""),
			ping(src, "10.0.0.10", "c0"), tcp(src, "198.51.100.1", 22, "c0"))
	}
	return ps
}

// firewalldProbes aim at the zone's open ports, its forward port and
// its rejects, in both families.
func firewalldProbes() []netns.Probe {
	var ps []netns.Probe
	for _, a := range [][3]string{{"198.18.0.1", "198.51.100.1", "203.0.113.2"}, {"2001:db8:ff00::1", "2001:db8:1::1", "2001:db8:2::2"}} {
		src, local, fwd := a[0], a[1], a[2]
		ps = append(ps, tcp(src, local, 22, "c0"), tcp(src, local, 443, "c2"), tcp(src, local, 8080, "c0"),
			tcp(src, local, 8081, "c0"), tcp(src, local, 31000, "c0"), tcp(src, local, 9100, "c0"),
			udp(src, local, 5353, "c0"), udp(src, local, 546, "c0"), ping(src, local, "c0"),
			tcp(src, fwd, 80, "c0"), tcp(src, fwd, 80, ""), tcp(src, local, 22, ""))
	}
	return ps
}

// TestKernelCorpus loads real captures (kube-proxy nftables mode,
// firewalld nftables backend) with counters added, plus a CRI-O
// hostports table and OVN-Kubernetes' management-port SNAT in the shapes
// their knftables code writes, and
// compares the kernel's counters with the simulated paths.
func TestKernelCorpus(t *testing.T) {
	lab := netns.New(t)
	d := &differ{t: t, lab: lab, env: labEnv(lab)}
	kp := strings.NewReplacer("192.0.2.2", "192.0.2.129")
	cases := []struct {
		name   string
		load   func()
		probes []netns.Probe
	}{
		{"kube-proxy-nft", func() {
			loadBatch(t, lab, withCounters(t, readTestdata(t, "corpus/kube-proxy_nftables-mode_01-synced.json"), kp))
		}, kubeProxyProbes()},
		{"firewalld", func() {
			loadBatch(t, lab, withCounters(t, readTestdata(t, "corpus/firewalld_nftables-backend_07-after-runtime-extras.json"), strings.NewReplacer()))
		}, firewalldProbes()},
		{"kube-proxy-nft+firewalld", func() {
			loadBatch(t, lab, withCounters(t, readTestdata(t, "corpus/kube-proxy_nftables-mode_01-synced.json"), kp))
			loadBatch(t, lab, withCounters(t, readTestdata(t, "corpus/firewalld_nftables-backend_07-after-runtime-extras.json"), strings.NewReplacer()))
		}, append(kubeProxyProbes()[:21], firewalldProbes()...)},
		{"crio-hostports", func() {
			if err := lab.LoadNft(string(readTestdata(t, "crio-hostports.nft"))); err != nil {
				t.Fatal(err)
			}
		}, crioProbes()},
		{"ovn-kubernetes", func() {
			if err := lab.LoadNft(string(readTestdata(t, "ovn-kubernetes.nft"))); err != nil {
				t.Fatal(err)
			}
		}, ovnProbes()},
	}
	for _, c := range cases {
		d.name = c.name
		if err := lab.Reset(); err != nil {
			t.Fatal(err)
		}
		c.load()
		if err := lab.LoadNft(observer); err != nil {
			t.Fatal(err)
		}
		guardReplies(t, lab)
		for i, p := range c.probes {
			d.probe(i, p)
		}
	}
	t.Logf("kernel agreement: %d/%d probes", d.agree, d.total)
}

// ovnProbes leave through the management port (n1) or not, to excluded
// node ports and services or not, from outside and from the node.
func ovnProbes() []netns.Probe {
	var ps []netns.Probe
	for _, a := range [][2]string{{"198.18.0.1", "203.0.113.2"}, {"2001:db8:ff00::1", "2001:db8:2::2"}} {
		ps = append(ps, tcp(a[0], a[1], 80, "c0"), tcp(a[0], a[1], 443, "c0"), tcp(a[0], a[1], 30080, "c2"),
			udp(a[0], a[1], 30080, "c0"), tcp(a[0], a[1], 80, ""), tcp(a[0], a[1], 443, ""), ping(a[0], a[1], "c0"))
	}
	return ps
}

func crioProbes() []netns.Probe {
	var ps []netns.Probe
	for _, src := range []string{"198.18.0.1", "198.18.9.9"} {
		ps = append(ps, tcp(src, "198.51.100.1", 8080, "c0"), tcp(src, "192.0.2.129", 8080, "c2"),
			udp(src, "198.51.100.1", 8081, "c0"), tcp(src, "198.51.100.1", 8888, "c0"), tcp(src, "192.0.2.129", 8888, "c2"),
			tcp(src, "198.51.100.1", 9999, "c0"), udp(src, "198.51.100.1", 9999, "c0"), tcp(src, "203.0.113.2", 8080, "c0"),
			tcp(src, "198.51.100.1", 8080, ""), tcp(src, "127.0.0.1", 8080, ""))
	}
	return ps
}

// legacyRules is an iptables-legacy ruleset running next to firewalld's
// nft table: filter INPUT at priority 0 ties with nft chains of the tie
// table below, nat PREROUTING joins the NAT multiplexer.
const legacyRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 443 -j DROP
-A INPUT -p udp -j ACCEPT
-A INPUT -s 198.18.3.0/24 -j DROP
-A FORWARD -p tcp --dport 80 -j ACCEPT
-A OUTPUT -d 203.0.113.2 -p tcp --dport 80 -j REJECT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22
-A PREROUTING -p tcp --dport 8443 -j DNAT --to-destination 203.0.113.2:443
-A POSTROUTING -o n1 -j MASQUERADE
COMMIT
`

// tieTable has chains at the legacy filter table's priority (0): loaded
// after it, they run before it (nf_hook_entries_grow).
const tieTable = `table ip tie {
	chain c_in { type filter hook input priority 0; policy accept; tcp dport 22 counter drop; counter; }
	chain c_fwd { type filter hook forward priority 0; policy accept; tcp dport 443 counter accept; counter; }
}
`

// TestKernelMixedLegacy runs iptables-legacy tables, firewalld's nft
// table and an nft table tied in priority with the legacy filter table in
// one namespace: one path across all of them, compared rule by rule.
func TestKernelMixedLegacy(t *testing.T) {
	lab := netns.New(t)
	d := &differ{t: t, lab: lab, env: labEnv(lab), name: "mixed"}
	if err := lab.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := lab.RestoreIptables(netns.Legacy, false, legacyRules); err != nil {
		t.Fatal(err)
	}
	loadBatch(t, lab, withCounters(t, readTestdata(t, "corpus/firewalld_nftables-backend_07-after-runtime-extras.json"), strings.NewReplacer()))
	for _, s := range []string{tieTable, observer, replyGuard} {
		if err := lab.LoadNft(s); err != nil {
			t.Fatal(err)
		}
	}
	d.extra = func() (*nf.Ruleset, map[string]uint64) { return legacyCounts(t, lab) }
	ps := firewalldProbes()[:12]
	for _, src := range []string{"198.18.0.1", "198.18.3.7"} {
		ps = append(ps, tcp(src, "198.51.100.1", 2222, "c0"), tcp(src, "198.51.100.1", 8443, "c0"),
			tcp(src, "203.0.113.2", 443, "c0"), udp(src, "198.51.100.1", 53, "c0"), tcp(src, "198.51.100.1", 22, "c0"))
	}
	for i, p := range ps {
		d.probe(i, p)
	}
	t.Logf("kernel agreement: %d/%d probes", d.agree, d.total)
}

// legacyCounts reads the legacy tables and their rule counters.
func legacyCounts(t *testing.T, lab *netns.Lab) (*nf.Ruleset, map[string]uint64) {
	t.Helper()
	text, err := lab.SaveIptables(netns.Legacy, false)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.Parse([]byte(text), iptables.Options{File: "legacy", Backend: nf.BackendLegacy, Family: nf.IPv4})
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	return rs, counted(rs)
}
