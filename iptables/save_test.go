package iptables

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// view is a comparable projection of a parsed ruleset.
type view struct {
	Tables []tableView
}

type tableView struct {
	Family  nf.Family
	Name    string
	Backend nf.Backend
	Chains  []chainView
}

type chainView struct {
	Name     string
	Policy   string
	Priority int
	Counters nf.Counters
	Rules    []ruleView
}

type ruleView struct {
	Index    int
	Exprs    []string
	Target   string
	Comment  string
	Counters nf.Counters
}

func saveView(rs *nf.Ruleset) view {
	var v view
	for _, t := range rs.Tables {
		tv := tableView{Family: t.Family, Name: t.Name, Backend: t.Backend}
		for _, c := range t.Chains {
			cv := chainView{Name: c.Name, Counters: c.Counters()}
			if c.Base != nil {
				cv.Policy, cv.Priority = c.Base.Policy.String(), c.Base.Priority
			}
			for _, r := range c.Rules {
				cv.Rules = append(cv.Rules, ruleView{Index: r.Index(), Exprs: exprStrings(r.Exprs), Target: r.Target(), Comment: r.Comment(), Counters: r.Counters()})
			}
			tv.Chains = append(tv.Chains, cv)
		}
		v.Tables = append(v.Tables, tv)
	}
	return v
}

func exprStrings(es []nf.Expr) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.String()
	}
	return out
}

func mustParse(t *testing.T, text string) *nf.Ruleset {
	t.Helper()
	rs, err := Parse([]byte(text), Options{File: "test"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rs
}

// oneRule parses a filter-table dump holding one INPUT rule and returns
// the rule's expressions.
func oneRule(t *testing.T, rule string) []string {
	t.Helper()
	rs := mustParse(t, "*filter\n:INPUT ACCEPT [0:0]\n:USER - [0:0]\n-A INPUT "+rule+"\nCOMMIT\n")
	rules := rs.Tables[0].Chain("INPUT").Rules
	if len(rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(rules))
	}
	return exprStrings(rules[0].Exprs)
}

func TestRuleExpressions(t *testing.T) {
	tests := []struct {
		name string
		rule string
		want []string
	}{
		{"accept", "-j ACCEPT", []string{"ACCEPT"}},
		{"no target", "-s 10.0.0.0/8", []string{"saddr 10.0.0.0/8"}},
		{"negated source, mask form", "! -s 10.0.0.0/255.0.0.0 -j DROP", []string{"!= saddr 10.0.0.0/8", "DROP"}},
		{"any address is dropped", "-s 0.0.0.0/0 -j ACCEPT", []string{"ACCEPT"}},
		{"interface wildcard", "-i eth+ ! -o docker0 -j ACCEPT", []string{"iifname eth+", "!= oifname docker0", "ACCEPT"}},
		{"tcp port range", "-p tcp -m tcp --dport 30000:32767 -j ACCEPT", []string{"l4proto 6", "dport 30000-32767", "ACCEPT"}},
		{"implicit tcp module", "-p tcp --sport 1024: -j ACCEPT", []string{"l4proto 6", "sport 1024-65535", "ACCEPT"}},
		{"old negation syntax", "-p udp --dport ! 53 -j DROP", []string{"l4proto 17", "!= dport 53", "DROP"}},
		{"syn", "-p tcp -m tcp --syn -j ACCEPT", []string{"l4proto 6", "tcp flags & 0x17 2", "ACCEPT"}},
		{"tcp flags comparison not masked", "-p tcp -m tcp --tcp-flags SYN SYN,ACK -j DROP", []string{"l4proto 6", "tcp flags & 0x2 18", "DROP"}},
		{"multiport", "-p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT", []string{"l4proto 6", "dport { 80, 443, 8000-8080 }", "ACCEPT"}},
		{"multiport either", "-p udp -m multiport ! --ports 53 -j ACCEPT", []string{"l4proto 17", "!= ports 53", "ACCEPT"}},
		{"ctstate", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", []string{"ct state & 0x6 != 0", "ACCEPT"}},
		{"state negated", "-m state ! --state NEW -j DROP", []string{"!= ct state & 0x8 != 0", "DROP"}},
		{"addrtype", "-m addrtype --dst-type LOCAL -j USER", []string{"addrtype --dst-type LOCAL", "JUMP USER"}},
		{"mark with mask", "-m mark --mark 0x4000/0x4000 -j ACCEPT", []string{"mark & 0x4000 16384", "ACCEPT"}},
		{"mark value outside mask kept", "-m mark --mark 0x6/0x4000 -j ACCEPT", []string{"mark & 0x4000 6", "ACCEPT"}},
		{"comment with escapes", `-m comment --comment "say \"hi\" \\ there" -j ACCEPT`, []string{`comment "say \"hi\" \\ there"`, "ACCEPT"}},
		{"statistic random", "-m statistic --mode random --probability 0.50000000000 -j USER", []string{"statistic --mode random --probability 0.5000000000", "JUMP USER"}},
		{"icmp type name", "-p icmp -m icmp --icmp-type echo-request -j ACCEPT", []string{"l4proto 1", "icmp type 8", "ACCEPT"}},
		{"icmp type/code negated", "-p icmp -m icmp ! --icmp-type 3/3 -j ACCEPT", []string{"l4proto 1", "!(icmp type 3 && icmp code 3)", "ACCEPT"}},
		{"iprange", "-m iprange --src-range 10.0.0.1-10.0.0.9 -j DROP", []string{"saddr 10.0.0.1-10.0.0.9", "DROP"}},
		{"length", "-m length --length 0:100 -j DROP", []string{"length 0-100", "DROP"}},
		{"ttl", "-m ttl --ttl-lt 5 -j DROP", []string{"ttl < 5", "DROP"}},
		{"reject default", "-j REJECT", []string{"REJECT --reject-with icmp-port-unreachable"}},
		{"reject reset", "-p tcp -j REJECT --reject-with tcp-reset", []string{"l4proto 6", "REJECT --reject-with tcp-reset"}},
		{"reject reset alias", "-p tcp -j REJECT --reject-with tcp-rst", []string{"l4proto 6", "REJECT --reject-with tcp-reset"}},
		{"reject short spelling", "-j REJECT --reject-with host-prohib", []string{"REJECT --reject-with icmp-host-prohibited"}},
		{"goto", "-g USER", []string{"GOTO USER"}},
		{"log continues", `-j LOG --log-prefix "IN: "`, []string{`LOG --log-prefix "IN: "`}},
		{"unknown module kept", "-m foo --bar 1 -j ACCEPT", []string{"-m foo --bar 1", "ACCEPT"}},
		{"fragment", "-f -j DROP", []string{"(false)", "DROP"}},
		{"owner", "-m owner --uid-owner 0 -j ACCEPT", []string{"-m owner --uid-owner 0", "ACCEPT"}},
		{"limit", "-m limit --limit 5/sec -j ACCEPT", []string{"-m limit --limit 5/sec", "ACCEPT"}},
		{"recent set never forks", "-m recent --set --name X -j ACCEPT", []string{"-m recent --set --name X", "ACCEPT"}},
		{"set match", "-m set --match-set blocked src -j DROP", []string{"-m set --match-set blocked src", "DROP"}},
		{"counters inline", "-c 5 300 -j ACCEPT", []string{"ACCEPT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := oneRule(t, tt.rule)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("exprs of %q (-want +got):\n%s", tt.rule, diff)
			}
		})
	}
}

// TestRejectSpellings6: ip6tables' short spellings name ICMPv6 replies.
func TestRejectSpellings6(t *testing.T) {
	rs := mustParse(t, "# Generated by ip6tables-save v1.8.10\n*filter\n:INPUT ACCEPT [0:0]\n"+
		"-A INPUT -j REJECT --reject-with port-unreach\n-A INPUT -j REJECT --reject-with adm-prohibited\n-A INPUT -j REJECT\nCOMMIT\n")
	var got []string
	for _, r := range rs.Tables[0].Chain("INPUT").Rules {
		got = append(got, exprStrings(r.Exprs)...)
	}
	want := []string{"REJECT --reject-with icmp6-port-unreachable", "REJECT --reject-with icmp6-adm-prohibited", "REJECT --reject-with icmp6-port-unreachable"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ip6tables REJECT replies (-want +got):\n%s", diff)
	}
}

func TestTargets(t *testing.T) {
	rs := mustParse(t, `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080
-A PREROUTING -p tcp -j REDIRECT --to-ports 3128
-A POSTROUTING -o eth0 -j MASQUERADE --random-fully
-A POSTROUTING -s 10.0.0.0/8 -j SNAT --to-source 192.0.2.1-192.0.2.9:1024-2048
-A OUTPUT -j MARK --or-mark 0x4000
-A OUTPUT -j MARK --and-mark 0xffffbfff
-A OUTPUT -j MARK --set-mark 0x1/0xff
-A OUTPUT -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff
COMMIT
`)
	var got []string
	for _, c := range rs.Tables[0].Chains {
		for _, r := range c.Rules {
			last := r.Exprs[len(r.Exprs)-1]
			switch s := last.(type) {
			case *nf.NATStmt:
				got = append(got, s.Kind.String()+" "+s.AddrLo().String()+"-"+s.AddrHi().String()+" "+itoa(int(s.PortLo))+"-"+itoa(int(s.PortHi)))
			case *nf.MarkStmt:
				got = append(got, "mark "+itoa(int(s.Value))+"/"+itoa(int(s.Mask)))
			case *nf.ConnmarkCopyStmt:
				got = append(got, "connmark-save")
			}
		}
	}
	want := []string{
		"DNAT 10.0.0.1-10.0.0.1 8080-8080", "REDIRECT invalid IP-invalid IP 3128-3128",
		"MASQUERADE invalid IP-invalid IP 0-0", "SNAT 192.0.2.1-192.0.2.9 1024-2048",
		"mark 16384/16384", "mark 0/16384", "mark 1/255", "connmark-save",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		line, col int
		msg       string
	}{
		{"missing commit", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n", 3, 0, "no COMMIT"},
		{"unknown table", "*bogus\nCOMMIT\n", 1, 1, "unknown table"},
		{"undeclared chain", "*filter\n:INPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n", 3, 4, "not declared"},
		{"bad policy", "*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n", 2, 1, "invalid policy"},
		{"policy on user chain", "*filter\n:USER ACCEPT [0:0]\nCOMMIT\n", 2, 1, "not a built-in chain"},
		{"bad counters", "*filter\n:INPUT ACCEPT [x:0]\nCOMMIT\n", 2, 15, "invalid counters"},
		{"unknown option", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --frobnicate 1 -j ACCEPT\nCOMMIT\n", 3, 10, "unknown option --frobnicate"},
		{"bad port", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 99999 -j ACCEPT\nCOMMIT\n", 3, 17, "invalid port"},
		{"bad address", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n", 3, 10, "invalid address"},
		{"unterminated quote", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"oops -j ACCEPT\nCOMMIT\n", 3, 0, "unterminated"},
		{"binary junk", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT \x00\x01\x02\nCOMMIT\n", 3, 10, "binary data"},
		{"table before commit", "*filter\n:INPUT ACCEPT [0:0]\n*nat\nCOMMIT\n", 3, 1, "before COMMIT"},
		{"wrong format", "hello world\n", 1, 1, "not an iptables ruleset"},
		{"missing argument", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s\nCOMMIT\n", 3, 10, "needs an argument"},
		{"two targets", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT -j DROP\nCOMMIT\n", 3, 20, "more than one target"},
		{"unknown reject type", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j REJECT --reject-with bogus\nCOMMIT\n", 3, 0, `unknown --reject-with type "bogus"`},
		{"NAT range of two families", "# Generated by ip6tables-save v1.8.10\n*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination ::1-10.0.0.1\nCOMMIT\n", 4, 0, `invalid NAT address "10.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.input), Options{File: "in.txt"})
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if pe.File != "in.txt" || pe.Line != tt.line || (tt.col != 0 && pe.Col != tt.col) {
				t.Errorf("got position %s:%d:%d, want in.txt:%d:%d (%v)", pe.File, pe.Line, pe.Col, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q, want it to mention %q", err, tt.msg)
			}
		})
	}
}

func TestHugeLine(t *testing.T) {
	long := "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment " + strings.Repeat("x", 10<<20) + " -j ACCEPT -x\nCOMMIT\n"
	_, err := Parse([]byte(long), Options{File: "big"})
	var pe *nf.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *ParseError", err)
	}
	if len(err.Error()) > 400 {
		t.Errorf("error message is %d bytes; it should quote a shortened line", len(err.Error()))
	}
}

func TestFormatsAndFlavours(t *testing.T) {
	crlf := "*filter\r\n:INPUT DROP [1:2]\r\n-A INPUT -i lo -j ACCEPT   \r\nCOMMIT\r\n"
	rs := mustParse(t, crlf)
	if c := rs.Tables[0].Chain("INPUT"); c.Base.Policy != nf.VerdictDrop || len(c.Rules) != 1 || c.Counters().Packets != 1 {
		t.Errorf("CRLF dump parsed wrong: %+v", saveView(rs))
	}
	s := mustParse(t, "-P INPUT DROP\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N USER\n-A INPUT -j USER\n-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1\n")
	if len(s.Tables) != 2 || s.Tables[0].Name != "filter" || s.Tables[1].Name != "nat" {
		t.Fatalf("iptables -S tables: got %+v", saveView(s))
	}
	m := mustParse(t, "-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n")
	if m.Tables[0].Name != "mangle" {
		t.Errorf("five built-in chains: got table %s, want mangle", m.Tables[0].Name)
	}
	v6 := mustParse(t, "# Generated by ip6tables-save v1.8.9 (nf_tables)\n*security\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
	if tb := v6.Tables[0]; tb.Family != nf.FamilyIPv6 || tb.Backend != nf.BackendIptablesNft || tb.Chain("INPUT").Base.Priority != nf.PriSecurityNft {
		t.Errorf("ip6tables-nft security table: got %+v", saveView(v6))
	}
	again := mustParse(t, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
	if len(again.Tables) != 1 || len(again.Tables[0].Chain("INPUT").Rules) != 0 || len(again.Warnings) != 1 {
		t.Errorf("concatenated dumps: the later table must replace the earlier one with a warning; got %+v, %v", saveView(again), again.Warnings)
	}
	ins := mustParse(t, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n-I INPUT -s 10.0.0.1 -j ACCEPT\n-I INPUT 2 -s 10.0.0.2 -j ACCEPT\nCOMMIT\n")
	var order []string
	for _, r := range ins.Tables[0].Chain("INPUT").Rules {
		order = append(order, r.Text)
	}
	want := []string{"-A INPUT -s 10.0.0.1 -j ACCEPT", "-A INPUT -s 10.0.0.2 -j ACCEPT", "-A INPUT -j DROP"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("-I order (-want +got):\n%s", diff)
	}
	multi := mustParse(t, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1,10.0.0.2 -j ACCEPT\nCOMMIT\n")
	if n := len(multi.Tables[0].Chain("INPUT").Rules); n != 2 {
		t.Errorf("-s a,b: got %d rules, want 2 (iptables expands lists)", n)
	}
}

// corpusFiles lists the real iptables captures shipped as test data.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../testdata/corpus", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), "tables") && strings.Contains(d.Name(), "save") && strings.HasSuffix(d.Name(), ".txt") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	return files
}

func TestRealCaptures(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Parse(data, Options{File: f})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if err := nf.Validate(rs); err != nil {
				t.Fatalf("validate: %v", err)
			}
			want := bytes.Count(data, []byte("-A "))
			got := 0
			for _, tb := range rs.Tables {
				for _, c := range tb.Chains {
					got += len(c.Rules)
				}
			}
			if got != want {
				t.Errorf("got %d rules, want %d (-A lines)", got, want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	inputs := map[string]string{
		"quoting": "*filter\n:INPUT ACCEPT [3:4]\n:USER - [0:0]\n[1:2] -A INPUT -m comment --comment \"a \\\"b\\\" c\" -j USER\n-A USER -s 10.0.0.1,10.0.0.2 -j RETURN\nCOMMIT\n",
	}
	for _, f := range corpusFiles(t) {
		data, _ := os.ReadFile(f)
		inputs[f] = string(data)
	}
	for name, in := range inputs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			first := mustParse(t, in)
			var buf bytes.Buffer
			if err := Print(&buf, first); err != nil {
				t.Fatal(err)
			}
			second := mustParse(t, buf.String())
			if diff := cmp.Diff(saveView(first), saveView(second)); diff != "" {
				t.Errorf("parse → print → parse changed the ruleset (-first +second):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"))
	f.Add([]byte("-P INPUT DROP\n-N X\n-A INPUT -m comment --comment \"x\\\"y\" -g X\n"))
	f.Add([]byte("*nat\n:PREROUTING ACCEPT [0:0]\n[1:2] -A PREROUTING -d 10.0.0.1/32 -p tcp -m multiport --dports 1,2:3 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.1.1.1:80\nCOMMIT\n"))
	f.Add([]byte("Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data, Options{File: "fuzz"})
		if err != nil {
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		_ = nf.Validate(rs)
	})
}
