package iptables

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// listView says what a listing variant can show (from its file name:
// NAME.BACKEND.VARIANT.txt, VARIANT being L-n, L-n-v, L-n-v-x-line, or
// TABLE.L-... / TABLE-CHAIN.L-... for one table or one chain).
type listView struct {
	counters, exact, names bool
	table, chain           string
}

func listViewOf(variant string) listView {
	var v listView
	scope, flags, ok := strings.Cut(variant, ".")
	if !ok {
		flags, scope = variant, ""
	}
	v.counters = strings.Contains(flags, "-v")
	v.exact = strings.Contains(flags, "-x")
	v.names = !strings.Contains(flags, "-n")
	v.table, v.chain, _ = strings.Cut(scope, "-")
	return v
}

// listProjRule is what a listing can express of a rule.
type listProjRule struct {
	Counters string
	Target   string
	Comment  string
	Exprs    []string
}

type listProjChain struct {
	Name     string
	Policy   string
	Counters string
	Rules    []listProjRule
}

type listProjTable struct {
	Name   string
	Family string
	Chains []listProjChain
}

// listProject reduces a ruleset to what a listing of the given view shows.
func listProject(rs *nf.Ruleset, v listView) []listProjTable {
	var out []listProjTable
	for _, t := range rs.Tables {
		if v.table != "" && t.Name != v.table {
			continue
		}
		pt := listProjTable{Name: t.Name, Family: string(t.Family)}
		for _, c := range t.Chains {
			if v.chain != "" && c.Name != v.chain {
				continue
			}
			pt.Chains = append(pt.Chains, listProjectChain(c, v))
		}
		out = append(out, pt)
	}
	return out
}

// listSecurityAsFilter turns a projected security table into what a listing
// that cannot tell it from filter yields: the filter table's name and
// priority.
func listSecurityAsFilter(pt listProjTable) listProjTable {
	pt.Name = "filter"
	for i := range pt.Chains {
		pt.Chains[i].Policy = strings.Replace(pt.Chains[i].Policy, fmt.Sprintf("/%d", nf.PriSecurity), "/0", 1)
	}
	return pt
}

func listProjectChain(c *nf.Chain, v listView) listProjChain {
	pc := listProjChain{Name: c.Name}
	if c.Base != nil {
		pc.Policy = fmt.Sprintf("%s/%s/%d", c.Base.Policy, c.Base.Hook, c.Base.Priority)
		pc.Counters = listProjCounters(c.Counters(), v)
	}
	for _, r := range c.Rules {
		pr := listProjRule{Counters: listProjCounters(r.Counters(), v), Target: r.Target(), Comment: r.Comment()}
		for _, e := range r.Exprs {
			if s := listProjExpr(e, v); s != "" {
				pr.Exprs = append(pr.Exprs, s)
			}
		}
		pc.Rules = append(pc.Rules, pr)
	}
	return pc
}

func listProjExpr(e nf.Expr, v listView) string {
	switch x := e.(type) {
	case *nf.FieldMatch:
		if !v.counters && (x.Field == nf.FieldInIface || x.Field == nf.FieldOutIface) {
			return ""
		}
	case *nf.NopStmt:
		name, _, _ := strings.Cut(x.Text, " ")
		return "nop " + name
	case *nf.IfKnown:
		return "ifknown " + x.Match.String()
	case *nf.UnknownTarget:
		if v.chain != "" {
			return "jump-or-unknown " + x.Name
		}
	case *nf.VerdictExpr:
		if v.chain != "" && (x.V.Kind == nf.VerdictJump || x.V.Kind == nf.VerdictGoto) {
			// A listing of one chain does not show the chains it jumps to.
			return "jump-or-unknown " + x.V.Chain
		}
	case *nf.StatefulMatch:
		// The listing keeps the print form as text; the key and the
		// verdict on it are what the simulator uses.
		return fmt.Sprintf("stateful %s known=%t side-effect=%t", x.Key, x.Known, x.SideEffectOnly)
	}
	return fmt.Sprintf("%T %s", e, e)
}

// listProjCounters shows counters as the view prints them: not at all
// without -v, rounded as xtables_print_num does without -x.
func listProjCounters(c nf.Counters, v listView) string {
	if !v.counters {
		return ""
	}
	if !v.exact {
		c.Packets, c.Bytes = listRoundCount(c.Packets), listRoundCount(c.Bytes)
	}
	return fmt.Sprintf("%d/%d", c.Packets, c.Bytes)
}

// listRoundCount rounds n as xtables_print_num prints it without -x, and
// reads it back.
func listRoundCount(n uint64) uint64 {
	if n <= 99999 {
		return n
	}
	s := ""
	for _, unit := range "KMGT" {
		n = (n + 500) / 1000
		if n <= 9999 || unit == 'T' {
			s = fmt.Sprintf("%d%c", n, unit)
			break
		}
	}
	v, _, err := ParseListCount(s)
	if err != nil {
		panic(err)
	}
	return v
}

func listCaptures(t testing.TB) []string {
	files, err := filepath.Glob("testdata/list/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".save.txt") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("no captures in testdata/list")
	}
	return out
}

// TestParseListCaptures checks every real listing against the
// iptables-save output captured from the same namespace.
func TestParseListCaptures(t *testing.T) {
	for _, f := range listCaptures(t) {
		base := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(base, func(t *testing.T) {
			parts := strings.SplitN(base, ".", 3)
			v := listViewOf(parts[2])
			save := readListRuleset(t, filepath.Join("testdata/list", parts[0]+"."+parts[1]+".save.txt"), Parse, Options{})
			list := readListRuleset(t, f, ParseList, Options{Table: v.table})
			want, got := listProject(save, v), listProject(list, v)
			if v.names || strings.HasPrefix(base, "unknown") {
				// Lossy: names (no -n) or matches the package does not know.
				compareLossyList(t, want, got, list)
				checkListWarnings(t, list, v, !v.names)
				return
			}
			if len(got) != len(want) {
				t.Fatalf("got %d tables, want %d", len(got), len(want))
			}
			for i, gt := range got {
				wt := want[i]
				if wt.Name == "security" {
					// Documented ambiguity: the listing reads it as filter.
					wt = listSecurityAsFilter(wt)
				}
				if diff := cmp.Diff(wt, gt); diff != "" {
					t.Errorf("table %s: listing disagrees with iptables-save (-want +got):\n%s", wt.Name, diff)
				}
			}
			checkListWarnings(t, list, v, false)
		})
	}
}

// compareLossyList checks a lossy listing (without -n, or with matches the
// package does not know): the same tables, chains, policies and rules with
// the same targets, and a warning on the line of every rule whose matches
// could not all be read back.
func compareLossyList(t *testing.T, want, got []listProjTable, list *nf.Ruleset) {
	t.Helper()
	warned := map[int]bool{}
	for _, w := range list.Warnings {
		warned[w.Pos.Line] = true
	}
	if len(got) != len(want) {
		t.Fatalf("got %d tables, want %d", len(got), len(want))
	}
	for i, wt := range want {
		if wt.Name == "security" {
			wt = listSecurityAsFilter(wt)
		}
		gt, lt := got[i], list.Tables[i]
		if len(gt.Chains) != len(wt.Chains) {
			t.Fatalf("table %s: got %d chains, want %d", wt.Name, len(gt.Chains), len(wt.Chains))
		}
		for j, wc := range wt.Chains {
			gc := gt.Chains[j]
			if gc.Name != wc.Name || gc.Policy != wc.Policy || len(gc.Rules) != len(wc.Rules) {
				t.Errorf("chain %s %s %d rules, want %s %s %d rules", gc.Name, gc.Policy, len(gc.Rules), wc.Name, wc.Policy, len(wc.Rules))
				continue
			}
			for k, wr := range wc.Rules {
				r := lt.Chains[j].Rules[k]
				if cmp.Equal(wr, gc.Rules[k]) || warned[r.Pos().Line] {
					continue
				}
				t.Errorf("%s: rule differs without a warning (-want +got):\n%s", r.Pos(), cmp.Diff(wr, gc.Rules[k]))
			}
		}
	}
}

func readListRuleset(t *testing.T, path string, parse func([]byte, Options) (*nf.Ruleset, error), o Options) *nf.Ruleset {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o.File = path
	rs, err := parse(data, o)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return rs
}

// checkListWarnings checks that what a view loses is said, and that a
// listing of known matches has no text left not understood.
func checkListWarnings(t *testing.T, rs *nf.Ruleset, v listView, unknown bool) {
	t.Helper()
	all := ""
	for _, w := range rs.Warnings {
		all += w.String() + "\n"
		if w.Pos.Line == 0 || w.Pos.File == "" {
			t.Errorf("warning without position: %s", w)
		}
	}
	want := []string{"iptables-legacy or iptables-nft"}
	if !v.counters {
		want = append(want, "listing without -v")
	}
	if v.names {
		want = append(want, "listing without -n")
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no warning %q; got:\n%s", w, all)
		}
	}
	if got := strings.Contains(all, "not understood"); got != unknown && !v.names {
		t.Errorf("got text not understood %t, want %t; warnings:\n%s", got, unknown, all)
	}
}

func TestParseListWarnings(t *testing.T) {
	const hdr = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target     prot opt in     out     source               destination\n"
	tests := []struct {
		name, in string
		o        Options
		want     []string
	}{
		{"rounded counters", "Chain INPUT (policy ACCEPT 12K packets, 3M bytes)\n pkts bytes target prot opt in out source destination\n 100K 5G ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0\n",
			Options{Table: "filter"}, []string{"counters rounded"}},
		{"no -v", "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\nACCEPT     all  --  anywhere             anywhere\n",
			Options{}, []string{"listing without -v", "listing without -n", "read as filter"}},
		{"single chain", "Chain KUBE-SERVICES (2 references)\ntarget prot opt source destination\n", Options{}, []string{"no built-in chain"}},
		{"unknown match", hdr + "    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            policy match dir in pol none\n",
			Options{}, []string{`"policy match dir in pol none" not understood`}},
		{"unknown target", hdr + "    0     0 HMARK      0    --  *      *       0.0.0.0/0            0.0.0.0/0            HMARK mod 4 src-prefix 32 rnd 0x1\n",
			Options{}, []string{`target HMARK ("HMARK mod 4 src-prefix 32 rnd 0x1") is not one this package knows`}},
		{"chain not listed", "Chain KUBE-SERVICES (2 references)\n pkts bytes target prot opt in out source destination\n" +
			"    0     0 KUBE-SVC-X  6    --  *      *       0.0.0.0/0            10.0.0.1             tcp dpt:80\n",
			Options{Table: "nat"}, []string{"jump to KUBE-SVC-X, which the listing does not show"}},
		{"unknown before target", hdr + "    0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 frob 1 to:10.0.0.1\n",
			Options{}, []string{`"frob 1" not understood`}},
		{"host name", hdr + "    0     0 ACCEPT     0    --  *      *       db.example.com       0.0.0.0/0\n",
			Options{}, []string{"-s db.example.com: host names are not resolved"}},
		{"service name", hdr + "    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:frobnicate\n",
			Options{}, []string{`"tcp dpt:frobnicate": invalid port "frobnicate"; kept as a match whose result is unknown`}},
		{"comment guess", hdr + "    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* a */ b */\n",
			Options{}, []string{"where it ends is a guess"}},
		{"missing rules", "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\nnum pkts bytes target prot opt in out source destination\n1 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0\n3 0 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0\n",
			Options{}, []string{"rule numbered 3 in chain INPUT, expected 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.File = "in.txt"
			rs, err := ParseList([]byte(tc.in), tc.o)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			var all []string
			for _, w := range rs.Warnings {
				all = append(all, w.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.Join(all, "\n"), w) {
					t.Errorf("got warnings %q, want one containing %q", all, w)
				}
			}
		})
	}
}

func TestParseListRules(t *testing.T) {
	const v = " pkts bytes target     prot opt in     out     source               destination\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"goto, no target, negations", "Chain INPUT (policy DROP 0 packets, 0 bytes)\n" + v +
			"    0     0 CHAIN-A    0    --  eth+   *       0.0.0.0/0            0.0.0.0/0           [goto]\n" +
			"    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0            recent: SET name: FOO side: source mask: 255.255.255.255\n" +
			"    0     0 DROP      !6    !f  !lo    *      !10.0.0.0/8           0.0.0.0/0\n" +
			"\nChain CHAIN-A (1 references)\n" + v, []string{
			"iifname eth+ | GOTO CHAIN-A",
			"-m recent --set --name FOO --mask 255.255.255.255 --rsource",
			"!= saddr 10.0.0.0/8 | != iifname lo | != l4proto 6 | (true) | DROP",
		}},
		{"ip6tables 1.4: blank opt column", "Chain INPUT (policy ACCEPT 10 packets, 1000 bytes)\n" + v +
			"    0     0 ACCEPT     all      lo     *       ::/0                 ::/0\n" +
			"    5   400 ACCEPT     tcp      *      *       ::/0                 ::/0                 tcp dpt:22\n" +
			"    0     0            all      *      *       fe80::/10            ::/0\n", []string{
			"iifname lo | ACCEPT", "l4proto 6 | dport 22 | ACCEPT", "saddr fe80::/10",
		}},
		{"line numbers without -v", "Chain INPUT (policy ACCEPT)\nnum  target     prot opt source               destination\n" +
			"1    ACCEPT     tcp  --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80\n" +
			"2    DROP       all  --  0.0.0.0/0            0.0.0.0/0\n", []string{
			"l4proto 6 | dport 80 | ACCEPT", "DROP",
		}},
		{"print forms not in the captures", "Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\n" +
			"ACCEPT 0 -- 0.0.0.0/0 0.0.0.0/0 ADDRTYPE match dst-typeLOCAL\n" +
			"ACCEPT 0 -- 0.0.0.0/0 0.0.0.0/0 tos match!0x10/0x3f\n" +
			"ACCEPT 0 -- 0.0.0.0/0 0.0.0.0/0 MARK match 0x1\n" +
			"ACCEPT 0 -- 0.0.0.0/0 0.0.0.0/0 owner socket exists incl. suppl. groups\n" +
			"NFQUEUE 0 -- 0.0.0.0/0 0.0.0.0/0 NFQUEUE num 2 bypass cpu-fanout\n" +
			"LOG 6 -- 0.0.0.0/0 0.0.0.0/0 tcp dpt:22 LOG level warning tcp-sequence uid prefix \"a \"quoted\" b\"\n" +
			"CONNMARK 0 -- 0.0.0.0/0 0.0.0.0/0 CONNMARK restore ctmask 0xff00 nfmask ~0xff\n", []string{
			"addrtype --dst-type LOCAL | ACCEPT",
			"!= tos & 0x3f 16 | ACCEPT",
			"mark & 0xffffffff 1 | ACCEPT",
			"-m owner --socket-exists | -m owner --suppl-groups | ACCEPT",
			"QUEUE",
			"l4proto 6 | dport 22 | LOG --log-prefix \"a \\\"quoted\\\" b\" --log-level warning --log-tcp-sequence --log-uid",
			"CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff00",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseList([]byte(tc.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs.Tables[0].Chain("INPUT").Rules {
				got = append(got, listExprs(r.Exprs))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, w := range rs.Warnings {
				if strings.Contains(w.Message, "not understood") {
					t.Errorf("got warning %s, want none about text", w)
				}
			}
			if err := nf.Validate(rs); err != nil {
				t.Errorf("got validation error %v, want none", err)
			}
		})
	}
}

func TestParseListTables(t *testing.T) {
	chain := func(name, paren string) string {
		return "Chain " + name + " (" + paren + ")\ntarget prot opt source destination\n\n"
	}
	pol := func(names ...string) string {
		out := ""
		for _, n := range names {
			out += chain(n, "policy ACCEPT")
		}
		return out
	}
	tests := []struct {
		name, in string
		o        Options
		want     []string
	}{
		{"raw then filter", pol("PREROUTING", "OUTPUT") + pol("INPUT", "FORWARD", "OUTPUT"), Options{}, []string{"ip raw", "ip filter"}},
		{"mangle then nat", pol("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING") + pol("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
			Options{}, []string{"ip mangle", "ip nat"}},
		{"nat of an old kernel", pol("PREROUTING", "OUTPUT", "POSTROUTING"), Options{}, []string{"ip nat"}},
		{"filter with user chains then nat", pol("INPUT", "FORWARD", "OUTPUT") + chain("X", "1 references") + pol("PREROUTING"),
			Options{}, []string{"ip filter", "ip nat"}},
		{"one chain in two tables", chain("KUBE-SERVICES", "2 references") + chain("KUBE-SERVICES", "1 references"),
			Options{}, []string{"ip filter", "ip filter"}},
		{"table option", pol("INPUT"), Options{Table: "security"}, []string{"ip security"}},
		{"family option", pol("INPUT"), Options{Family: nf.IPv6}, []string{"ip6 filter"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseList([]byte(tc.in), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tb := range rs.Tables {
				got = append(got, tb.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tables (-want +got):\n%s", diff)
			}
		})
	}
}

func listExprs(es []nf.Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, " | ")
}

func TestParseListErrors(t *testing.T) {
	const hdr = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target prot opt in out source destination\n"
	tests := []struct {
		name, in  string
		line, col int
		text      string
	}{
		{"rule before chain", "ACCEPT all -- 0.0.0.0/0 0.0.0.0/0\n", 1, 1, "ACCEPT all -- 0.0.0.0/0 0.0.0.0/0"},
		{"bad policy", "Chain INPUT (policy MAYBE)\n", 1, 14, "Chain INPUT (policy MAYBE)"},
		{"policy on user chain", "Chain FOO (policy ACCEPT)\n", 1, 1, "Chain FOO (policy ACCEPT)"},
		{"bad header", "Chain INPUT policy\n", 1, 1, "Chain INPUT policy"},
		{"no column header", "Chain INPUT (policy ACCEPT)\nACCEPT all -- 0.0.0.0/0 0.0.0.0/0\n", 2, 1, "ACCEPT all -- 0.0.0.0/0 0.0.0.0/0"},
		{"bad counter", hdr + "   1x 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0\n", 3, 4, "   1x 0 ACCEPT 0 -- * * 0.0.0.0/0 0.0.0.0/0"},
		{"bad opt", hdr + "0 0 ACCEPT 0 xx * * 0.0.0.0/0 0.0.0.0/0\n", 3, 14, "0 0 ACCEPT 0 xx * * 0.0.0.0/0 0.0.0.0/0"},
		{"bad address", hdr + "0 0 ACCEPT 0 -- * * 10.0.0.0/99 0.0.0.0/0\n", 3, 21, "0 0 ACCEPT 0 -- * * 10.0.0.0/99 0.0.0.0/0"},
		{"short row", hdr + "0 0 ACCEPT 0 --\n", 3, 15, "0 0 ACCEPT 0 --"},
		{"binary", hdr + "0 0\x01\n", 3, 4, "0 0\x01"},
		{"bad protocol", hdr + "0 0 ACCEPT fr%b -- * * 0.0.0.0/0 0.0.0.0/0\n", 3, 12, "0 0 ACCEPT fr%b -- * * 0.0.0.0/0 0.0.0.0/0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseList([]byte(tc.in), Options{File: "in.txt"})
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got error %v, want a *netfilter.ParseError", err)
			}
			if pe.File != "in.txt" || pe.Line != tc.line || pe.Col != tc.col || pe.Text != tc.text {
				t.Errorf("got %s:%d:%d %q, want in.txt:%d:%d %q (%v)", pe.File, pe.Line, pe.Col, pe.Text, tc.line, tc.col, tc.text, err)
			}
		})
	}
}

func TestParseListCount(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		rounded bool
	}{
		{"0", 0, false}, {"99999", 99999, false}, {"100K", 100000, true}, {"9999M", 9999000000, true},
		{"10G", 10000000000, true}, {"1235T", 1235000000000000, true}, {"0K", ^uint64(0), true},
	}
	for _, tc := range tests {
		got, rounded, err := ParseListCount(tc.in)
		if err != nil || got != tc.want || rounded != tc.rounded {
			t.Errorf("ParseListCount(%q) = %d, %t, %v; want %d, %t", tc.in, got, rounded, err, tc.want, tc.rounded)
		}
	}
	for _, bad := range []string{"", "K", "-1", "+1", "1.5K", "99999999T"} {
		if _, _, err := ParseListCount(bad); err == nil {
			t.Errorf("ParseListCount(%q): got no error, want one", bad)
		}
	}
}

func TestDetectFormatList(t *testing.T) {
	for _, f := range listCaptures(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := DetectFormat(data); got != FormatList {
			t.Errorf("%s: got format %d, want FormatList", f, got)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, p := range listCaptures(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 {
			data = data[:4096]
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseList(data, Options{File: "fuzz"})
		if err != nil {
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got error %T %v, want a *netfilter.ParseError", err, err)
			}
			return
		}
		_ = nf.Validate(rs)
	})
}
