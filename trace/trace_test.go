package trace_test

import (
	"errors"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// outcomeView is what a semantics case checks of one outcome.
type outcomeView struct {
	Verdict   string
	Delivered string
	Dst       string
	Path      string
	Prob      float64
	Assumes   int
}

func load(t *testing.T, texts ...string) *nf.Ruleset {
	t.Helper()
	rs := &nf.Ruleset{}
	for _, text := range texts {
		part, err := iptables.Parse([]byte(text), iptables.Options{File: "case"})
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		collect.Merge(rs, part)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return rs
}

func pkt(proto uint8, src, dst string, dport uint16, in string) trace.Input {
	return trace.Input{Packet: nf.Packet{Proto: proto, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SPort: 40000, DPort: dport, TCPFlags: nf.TCPSyn, TTL: 64, InIface: in}}
}

func views(res trace.Result) []outcomeView {
	var out []outcomeView
	for _, o := range res.Outcomes {
		var steps []string
		for _, s := range o.Path {
			if s.Policy {
				steps = append(steps, s.Table+"/"+s.Chain+"#P")
			} else {
				steps = append(steps, s.Table+"/"+s.Chain+"#"+itoa(s.Rule))
			}
		}
		out = append(out, outcomeView{o.Verdict, o.Delivered, o.Final.Dst, strings.Join(steps, " "), math.Round(o.Probability*1e6) / 1e6, len(o.Assumptions)})
	}
	sortViews(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

const local = "192.0.2.10"

func TestSemantics(t *testing.T) {
	filter := func(body string) string {
		return "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n" + body + "COMMIT\n"
	}
	tcp := pkt(nf.ProtoTCP, "198.51.100.7", local, 22, "eth0")
	tests := []struct {
		name  string
		rules []string
		in    trace.Input
		env   func(*nf.Env)
		want  []outcomeView
	}{
		{"policy applies after the last rule", []string{filter("-A INPUT -p udp -j ACCEPT\n")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#P", 1, 0}}},
		{"drop policy", []string{strings.Replace(filter(""), ":INPUT ACCEPT", ":INPUT DROP", 1)}, tcp, nil,
			[]outcomeView{{"DROP", "none", local, "filter/INPUT#P", 1, 0}}},
		{"jump, fall through, return", []string{filter("-A INPUT -j A\n-A INPUT -j DROP\n-A A -p tcp -j B\n-A A -j ACCEPT\n-A B -j RETURN\n")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#1 filter/A#1 filter/B#1 filter/A#2", 1, 0}}},
		{"return from a goto'ed chain returns to the caller's caller", []string{filter("-A INPUT -j A\n-A INPUT -j ACCEPT\n-A A -g B\n-A A -j DROP\n-A B -j RETURN\n")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#1 filter/A#1 filter/B#1 filter/INPUT#2", 1, 0}}},
		{"goto from the base chain then the end: the base policy", []string{strings.Replace(filter("-A INPUT -g A\n-A INPUT -j ACCEPT\n-A A -p udp -j DROP\n"), ":INPUT ACCEPT", ":INPUT DROP", 1)}, tcp, nil,
			[]outcomeView{{"DROP", "none", local, "filter/INPUT#1 filter/INPUT#P", 1, 0}}},
		{"accept ends the table, not the hook", []string{filter("-A INPUT -j ACCEPT\n"), "*security\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"}, tcp, nil,
			[]outcomeView{{"DROP", "none", local, "filter/INPUT#1 security/INPUT#P", 1, 0}}},
		{"raw before mangle before filter", []string{
			"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m mark --mark 0x2 -j DROP\nCOMMIT\n",
			"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n-A PREROUTING -m mark --mark 0x1 -j MARK --set-mark 0x2\nCOMMIT\n",
			"*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 0x1\nCOMMIT\n"}, tcp, nil,
			[]outcomeView{{"DROP", "none", local, "raw/PREROUTING#1 raw/PREROUTING#P mangle/PREROUTING#1 mangle/PREROUTING#P mangle/INPUT#P filter/INPUT#1", 1, 0}}},
		{"DNAT before routing: forwarded", []string{"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 22 -j DNAT --to-destination 10.0.0.5:2222\nCOMMIT\n", filter("")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "forward", "10.0.0.5", "nat/PREROUTING#1 filter/FORWARD#P nat/POSTROUTING#P", 1, 1}}},
		{"nat only for the first packet", []string{"*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.0.0.5\nCOMMIT\n"},
			withState(tcp, nf.CTEstablished), nil, []outcomeView{{"ACCEPT", "local", local, "", 1, 0}}},
		{"SYN+ACK first: INVALID, no nat", []string{"*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.0.0.5\nCOMMIT\n", filter("-A INPUT -m conntrack --ctstate INVALID -j DROP\n")},
			withFlags(tcp, nf.TCPSyn|nf.TCPAck), nil, []outcomeView{{"DROP", "none", local, "filter/INPUT#1", 1, 0}}},
		{"bare ACK: NEW by loose pickup", []string{filter("-A INPUT -m conntrack --ctstate NEW -j DROP\n")},
			withFlags(tcp, nf.TCPAck), nil, []outcomeView{{"DROP", "none", local, "filter/INPUT#1", 1, 0}}},
		{"NOTRACK: UNTRACKED, nat skipped", []string{"*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n", "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.0.0.5\nCOMMIT\n", filter("-A INPUT -m state --state UNTRACKED -j ACCEPT\n")},
			tcp, nil, []outcomeView{{"ACCEPT", "local", local, "raw/PREROUTING#1 raw/PREROUTING#P filter/INPUT#1", 1, 0}}},
		{"no conntrack user: nat chains never run", []string{"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n", filter("")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#P", 1, 0}}},
		{"statistic random forks with probabilities", []string{"*nat\n:PREROUTING ACCEPT [0:0]\n:S - [0:0]\n" +
			"-A PREROUTING -j S\n-A S -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.0.0.1\n" +
			"-A S -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.2\n-A S -j DNAT --to-destination 10.0.0.3\nCOMMIT\n"}, tcp, nil,
			[]outcomeView{
				{"ACCEPT", "forward", "10.0.0.1", "nat/PREROUTING#1 nat/S#1", 0.333333, 1},
				{"ACCEPT", "forward", "10.0.0.2", "nat/PREROUTING#1 nat/S#2", 0.333333, 1},
				{"ACCEPT", "forward", "10.0.0.3", "nat/PREROUTING#1 nat/S#3", 0.333333, 1}}},
		{"limit forks on an assumption", []string{filter("-A INPUT -m limit --limit 1/s -j ACCEPT\n-A INPUT -j DROP\n")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#1", 1, 1}, {"DROP", "none", local, "filter/INPUT#2", 1, 1}}},
		{"a stated assumption does not fork", []string{filter("-A INPUT -m limit --limit 1/s -j ACCEPT\n-A INPUT -j DROP\n")}, tcp,
			func(e *nf.Env) { e.Assume["limit"] = false }, []outcomeView{{"DROP", "none", local, "filter/INPUT#2", 1, 1}}},
		{"forwarded with TTL 1 dies before FORWARD", []string{filter("-A FORWARD -j ACCEPT\n")}, withTTL(pkt(nf.ProtoTCP, "198.51.100.7", "10.9.9.9", 80, "eth0"), 1), nil,
			[]outcomeView{{"DROP", "none", "10.9.9.9", "", 1, 1}}},
		{"reject with tcp-reset", []string{filter("-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n")}, tcp, nil,
			[]outcomeView{{"REJECT", "none", local, "filter/INPUT#1", 1, 0}}},
		{"loopback: OUTPUT, POSTROUTING, then PREROUTING and INPUT without nat", []string{
			"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A OUTPUT -m conntrack --ctstate NEW\nCOMMIT\n", filter("")},
			trace.Input{Local: true, Packet: nf.Packet{Proto: nf.ProtoTCP, Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.1"), DPort: 80, SPort: 5000, TCPFlags: nf.TCPSyn, UID: -1, GID: -1}}, nil,
			[]outcomeView{{"ACCEPT", "local", "127.0.0.1", "nat/OUTPUT#1 nat/OUTPUT#P filter/OUTPUT#P nat/POSTROUTING#P filter/INPUT#P", 1, 0}}},
		{"unknown target forks three ways", []string{filter("-A INPUT -j FROB --frob 1\n")}, tcp, nil,
			[]outcomeView{{"ACCEPT", "local", local, "filter/INPUT#1", 1, 1}, {"ACCEPT", "local", local, "filter/INPUT#1 filter/INPUT#P", 1, 1}, {"DROP", "none", local, "filter/INPUT#1", 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := nf.NewEnv(netip.MustParseAddr(local))
			if tt.env != nil {
				tt.env(env)
			}
			res, err := trace.New(load(t, tt.rules...), env).Trace(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]outcomeView(nil), tt.want...)
			sortViews(want)
			if diff := cmp.Diff(want, views(res)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

func withState(in trace.Input, s nf.CTState) trace.Input { in.State = &s; return in }
func withFlags(in trace.Input, f uint8) trace.Input      { in.Packet.TCPFlags = f; return in }
func withTTL(in trace.Input, ttl uint8) trace.Input      { in.Packet.TTL = ttl; return in }

// TestProbabilitiesSumToOne: every random fork's outcomes add up to 1.
func TestProbabilitiesSumToOne(t *testing.T) {
	var b strings.Builder
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:S - [0:0]\n-A PREROUTING -p tcp -j S\n")
	n := 7
	for i := 0; i < n; i++ {
		p := 1.0 / float64(n-i)
		if i < n-1 {
			b.WriteString("-A S -m statistic --mode random --probability " + strconv.FormatFloat(p, 'f', 10, 64) + " -j DNAT --to-destination 10.0.0." + itoa(i+1) + "\n")
		} else {
			b.WriteString("-A S -j DNAT --to-destination 10.0.0." + itoa(i+1) + "\n")
		}
	}
	b.WriteString("COMMIT\n")
	res, err := trace.New(load(t, b.String()), nf.NewEnv(netip.MustParseAddr(local))).Trace(pkt(nf.ProtoTCP, "198.51.100.7", local, 80, "eth0"))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, o := range res.Outcomes {
		sum += o.Probability
	}
	if len(res.Outcomes) != n || math.Abs(sum-1) > 1e-6 {
		t.Errorf("got %d outcomes summing to %v, want %d summing to 1", len(res.Outcomes), sum, n)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name, rules, want string
	}{
		{"missing chain", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NOPE\nCOMMIT\n", `chain "NOPE", which does not exist`},
		{"loop", "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n", "closes a loop"},
		{"DNAT outside nat", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DNAT --to-destination 10.0.0.1\nCOMMIT\n", "only valid in the nat table"},
		{"DNAT from POSTROUTING", "*nat\n:POSTROUTING ACCEPT [0:0]\n:X - [0:0]\n-A POSTROUTING -j X\n-A X -j DNAT --to-destination 10.0.0.1\nCOMMIT\n", "DNAT used from POSTROUTING"},
		{"REJECT in PREROUTING", "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j REJECT\nCOMMIT\n", "REJECT used from PREROUTING"},
		{"NOTRACK outside raw", "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n", "only valid in the raw table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := iptables.Parse([]byte(tt.rules), iptables.Options{File: "v"})
			if err != nil {
				t.Fatal(err)
			}
			err = nf.Validate(rs)
			var ve *nf.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a validation error mentioning %q", err, tt.want)
			}
		})
	}
	// Nesting deeper than 16 is refused by nf_tables, a warning for legacy.
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n")
	for i := 0; i < 18; i++ {
		b.WriteString(":C" + itoa(i) + " - [0:0]\n")
	}
	b.WriteString("-A INPUT -j C0\n")
	for i := 0; i < 17; i++ {
		b.WriteString("-A C" + itoa(i) + " -j C" + itoa(i+1) + "\n")
	}
	b.WriteString("COMMIT\n")
	for _, backend := range []nf.Backend{nf.BackendIptablesNft, nf.BackendLegacy} {
		rs, _ := iptables.Parse([]byte(b.String()), iptables.Options{Backend: backend})
		err := nf.Validate(rs)
		if backend == nf.BackendLegacy && (err != nil || len(rs.Warnings) != 1) {
			t.Errorf("legacy depth 18: got %v and %d warnings, want a warning", err, len(rs.Warnings))
		}
		if backend == nf.BackendIptablesNft && !nf.IsValidation(err) {
			t.Errorf("nft depth 18: got %v, want a validation error", err)
		}
	}
}

func sortViews(v []outcomeView) {
	sort.Slice(v, func(i, j int) bool {
		if v[i].Path != v[j].Path {
			return v[i].Path < v[j].Path
		}
		return v[i].Verdict < v[j].Verdict
	})
}
