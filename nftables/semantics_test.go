package nftables

import (
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParsePriority(t *testing.T) {
	cases := []struct {
		name string
		fam  nf.Family
		in   any
		want int
	}{
		{"number", nf.FamilyIPv4, "-90", -90},
		{"JSON number", nf.FamilyInet, mustNumber("-140"), -140},
		{"filter plus", nf.FamilyInet, "filter + 10", 10},
		{"dstnat minus", nf.FamilyIPv4, "dstnat - 10", -110},
		{"no spaces", nf.FamilyIPv6, "mangle+10", -140},
		{"srcnat", nf.FamilyInet, "srcnat", 100},
		{"raw", nf.FamilyIPv4, "raw", -300},
		{"security", nf.FamilyIPv4, "security", 50},
		{"bridge filter", nf.FamilyBridge, "filter", -200},
		{"bridge out", nf.FamilyBridge, "out", 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parsePriority(c.fam, c.in)
			if err != nil || got != c.want {
				t.Errorf("got %d, %v, want %d", got, err, c.want)
			}
		})
	}
}

// simulate parses text, validates it and traces one packet.
func simulate(t *testing.T, text string, env *nf.Env, in trace.Input) trace.Result {
	t.Helper()
	rs, err := ParseText([]byte(text), "t.nft")
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	res, err := trace.New(rs, env).Trace(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func remote(src, dst string, proto uint8, dport uint16) trace.Input {
	return trace.Input{Packet: nf.Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: proto,
		SPort: 40000, DPort: dport, TCPFlags: nf.TCPSyn, InIface: "eth0"}}
}

// TestHookSemantics: verdicts across base chains of several tables.
func TestHookSemantics(t *testing.T) {
	env := nf.NewEnv(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"))
	cases := []struct {
		name, rules string
		in          trace.Input
		verdict     string
	}{
		{"accept ends only its base chain", `table ip a { chain c { type filter hook input priority 0; tcp dport 22 accept; } }
table ip b { chain c { type filter hook input priority 10; tcp dport 22 drop; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 22), "DROP"},
		{"drop ends the packet", `table ip a { chain c { type filter hook input priority 0; drop; } }
table ip b { chain c { type filter hook input priority 10; accept; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 22), "DROP"},
		{"inet sees IPv6", `table inet a { chain c { type filter hook input priority 0; tcp dport 22 drop; } }`,
			remote("2001:db8::7", "2001:db8::1", nf.ProtoTCP, 22), "DROP"},
		{"ip payload in inet does not match IPv6", `table inet a { chain c { type filter hook input priority 0; ip saddr != 10.0.0.0/8 drop; } }`,
			remote("2001:db8::7", "2001:db8::1", nf.ProtoTCP, 22), "ACCEPT"},
		{"tcp dport needs tcp", `table ip a { chain c { type filter hook input priority 0; tcp dport 53 drop; } }`,
			remote("198.51.100.7", "192.0.2.1", nf.ProtoUDP, 53), "ACCEPT"},
		{"policy drop", `table ip a { chain c { type filter hook input priority 0; policy drop; tcp dport 22 accept; } }`,
			remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"later registered runs first at a tie", `table ip a { chain c { type filter hook input priority 0; reject; } }
table ip b { chain c { type filter hook input priority 0; drop; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"fib daddr type local", `table ip a { chain c { type filter hook prerouting priority 0; fib daddr type local drop; } }`,
			remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"interval set", `table ip a { set s { type ipv4_addr; flags interval; elements = { 198.51.100.0/28 } }
	chain c { type filter hook input priority 0; ip saddr @s drop; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"concatenated set", `table ip a { set s { type ipv4_addr . inet_service; elements = { 192.0.2.1 . 80 } }
	chain c { type filter hook input priority 0; ip daddr . tcp dport @s drop; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"vmap", `table ip a { chain c { type filter hook input priority 0; meta l4proto . th dport vmap { tcp . 80 : drop }; } }`,
			remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"ct direction", `table ip a { chain c { type filter hook input priority 0; ct direction reply accept; ct direction original drop; } }`,
			remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
		{"dnat then forward", `table ip a { chain c { type nat hook prerouting priority dstnat; tcp dport 80 dnat to 10.0.0.5:8080; } }
table ip b { chain f { type filter hook forward priority 0; ip daddr 10.0.0.5 tcp dport 8080 drop; } }`, remote("198.51.100.7", "192.0.2.1", nf.ProtoTCP, 80), "DROP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := simulate(t, c.rules, env, c.in)
			if len(res.Outcomes) != 1 {
				t.Fatalf("got %d outcomes, want 1", len(res.Outcomes))
			}
			if got := res.Outcomes[0].Verdict; got != c.verdict {
				t.Errorf("got %s, want %s (path %+v)", got, c.verdict, res.Outcomes[0].Path)
			}
		})
	}
}

// TestNumgenForks: kube-proxy's endpoint choice forks into one outcome per
// endpoint, each with probability 1/N.
func TestNumgenForks(t *testing.T) {
	rs, err := ParseJSON(readTestdata(t, "corpus/kube-proxy_nftables-mode_01-synced.json"), "kp.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	res, err := trace.New(rs, nf.NewEnv(netip.MustParseAddr("192.0.2.2"))).Trace(remote("203.0.113.9", "10.0.0.10", nf.ProtoTCP, 80))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, o := range res.Outcomes {
		got[fmt.Sprintf("%s:%d", o.Final.Dst, o.Final.DPort)] += o.Probability
	}
	want := map[string]float64{"198.51.100.11:8080": 1.0 / 3, "198.51.100.12:8080": 1.0 / 3, "198.51.100.13:8080": 1.0 / 3}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })); d != "" {
		t.Errorf("endpoint probabilities (-want +got):\n%s", d)
	}
}

// TestIptablesNftTables: tables written by iptables-nft are marked, and a
// warning says to read them with iptables-nft-save.
func TestIptablesNftTables(t *testing.T) {
	rs, err := ParseJSON(readTestdata(t, "corpus/kube-proxy_iptables-mode_01-synced.json"), "kp.json")
	if err != nil {
		t.Fatal(err)
	}
	backends := map[string]nf.Backend{}
	for _, tb := range rs.Tables {
		backends[tb.String()] = tb.Backend
	}
	if backends["ip nat"] != nf.BackendIptablesNft || backends["ip filter"] != nf.BackendIptablesNft {
		t.Errorf("got backends %v, want ip nat and ip filter as iptables-nft", backends)
	}
	found := false
	for _, w := range rs.Warnings {
		found = found || strings.Contains(w.Message, "iptables-nft-save")
	}
	if !found {
		t.Errorf("got warnings %v, want one naming iptables-nft-save", rs.Warnings)
	}
}

// goldenPackets are traced over the corpus rulesets for TestTraceGolden.
var goldenCases = []struct {
	file    string
	local   []string
	packets []trace.Input
}{
	{"corpus/kube-proxy_nftables-mode_01-synced.json", []string{"192.0.2.2"}, []trace.Input{
		remote("203.0.113.9", "10.0.0.10", nf.ProtoTCP, 443), remote("203.0.113.9", "10.0.0.60", nf.ProtoTCP, 80),
		remote("203.0.113.9", "192.0.2.2", nf.ProtoTCP, 30082), remote("203.0.113.9", "203.0.113.50", nf.ProtoTCP, 80),
		remote("198.18.0.1", "203.0.113.50", nf.ProtoTCP, 80), remote("203.0.113.9", "10.0.0.70", nf.ProtoUDP, 53)}},
	{"corpus/firewalld_nftables-backend_07-after-runtime-extras.txt", []string{"198.51.100.1", "2001:db8::1"}, []trace.Input{
		remote("198.51.100.2", "198.51.100.1", nf.ProtoTCP, 9100), remote("198.51.100.3", "198.51.100.1", nf.ProtoTCP, 9100),
		remote("198.51.100.3", "198.51.100.1", nf.ProtoTCP, 8081), remote("198.51.100.3", "198.51.100.1", nf.ProtoTCP, 8080),
		remote("2001:db8::2", "2001:db8::1", nf.ProtoTCP, 22), remote("198.51.100.3", "203.0.113.2", nf.ProtoTCP, 80)}},
	{"crio-hostports.nft", []string{"198.51.100.1"}, []trace.Input{
		remote("198.18.0.1", "198.51.100.1", nf.ProtoTCP, 8080), remote("198.18.0.1", "198.51.100.1", nf.ProtoTCP, 8888),
		remote("198.18.0.1", "198.51.100.1", nf.ProtoUDP, 9999), remote("198.18.0.1", "198.51.100.1", nf.ProtoTCP, 7777)}},
	{"corpus/kube-proxy_iptables-mode_01-synced.json", []string{"192.0.2.2"}, []trace.Input{
		remote("203.0.113.9", "10.0.0.80", nf.ProtoTCP, 80)}},
}

// TestTraceGolden traces packets over real captures and compares every
// outcome (probability, verdict, endpoint, path, assumptions) with
// testdata/trace.golden (go test ./nftables -update rewrites it).
func TestTraceGolden(t *testing.T) {
	var b strings.Builder
	for _, c := range goldenCases {
		rs := loadAny(t, c.file)
		var locals []netip.Addr
		for _, a := range c.local {
			locals = append(locals, netip.MustParseAddr(a))
		}
		sim := trace.New(rs, nf.NewEnv(locals...))
		for _, in := range c.packets {
			res, err := sim.Trace(in)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "== %s: %s\n", c.file, in.Packet.String())
			writeOutcomes(&b, res)
		}
	}
	compareGolden(t, "testdata/trace.golden", b.String())
}

func loadAny(t *testing.T, name string) *nf.Ruleset {
	t.Helper()
	parse := ParseText
	if strings.HasSuffix(name, ".json") {
		parse = ParseJSON
	}
	rs, err := parse(readTestdata(t, name), name)
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func writeOutcomes(b *strings.Builder, res trace.Result) {
	for _, o := range res.Outcomes {
		fmt.Fprintf(b, "  p=%.4f %s delivered=%s final=%s:%d\n", o.Probability, o.Verdict, o.Delivered, o.Final.Dst, o.Final.DPort)
		for _, s := range o.Path {
			fmt.Fprintf(b, "    %s %s %s %s#%d %s\n", s.Hook, s.Family, s.Table, s.Chain, s.Rule, s.Target)
		}
		for _, a := range o.Assumptions {
			fmt.Fprintf(b, "    assume: %s\n", a)
		}
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("trace differs from %s (-want +got):\n%s", path, d)
	}
}

func mustNumber(s string) any { return jsonNumber(s) }

// TestHandles: `nft -a list ruleset` comments give Rule.Handle.
func TestHandles(t *testing.T) {
	rs, err := ParseText(readTestdata(t, "listed/crio-hostports-handles.txt"), "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, c := range rs.Tables[0].Chains {
		for _, r := range c.Rules {
			got[fmt.Sprintf("%s#%d", c.Name, r.Index())] = r.Handle()
		}
	}
	want := map[string]uint64{"hostports#1": 8, "hostports#2": 9, "hostports#3": 10, "masquerading#1": 11,
		"masquerading#2": 12, "masquerading#3": 13, "output#1": 14, "output#2": 15, "prerouting#1": 16, "prerouting#2": 17}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("handles (-want +got):\n%s", d)
	}
}
