package nftables

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// nativeCorpus are captures of native nftables rulesets, each as `nft list
// ruleset` text and `nft -j list ruleset` JSON of the same kernel state.
var nativeCorpus = []string{
	"corpus/firewalld_nftables-backend_01-after-start",
	"corpus/firewalld_nftables-backend_02-after-runtime-add-port",
	"corpus/firewalld_nftables-backend_07-after-runtime-extras",
	"corpus/kube-proxy_nftables-mode_01-synced",
	"corpus/kube-proxy_nftables-mode_07-after-recreate-svc-nodeport",
	"corpus/kube-proxy_scale-300_nftables-mode_01-synced",
	"constructs",
	"listed/ovn-kubernetes",
	"listed/crio-hostports",
}

// summary renders a ruleset's structure and semantics, one line per table,
// chain, set and rule, for comparing two parses.
func summary(rs *nf.Ruleset, withText bool) []string {
	var out []string
	for _, t := range rs.Tables {
		out = append(out, fmt.Sprintf("table %s seq=%d backend=%s", t, t.Seq, t.Backend))
		for _, c := range t.Chains {
			out = append(out, chainLine(t, c))
			for _, r := range c.Rules {
				out = append(out, ruleLine(t, c, r, withText))
			}
		}
		out = append(out, setLines(t)...)
	}
	return out
}

func chainLine(t *nf.Table, c *nf.Chain) string {
	s := fmt.Sprintf("chain %s %s", t, c.Name)
	if b := c.Base; b != nil {
		s += fmt.Sprintf(" type=%s hook=%s prio=%d policy=%s", b.Type, b.Hook.NftName(), b.Priority, b.Policy)
	}
	return s
}

// l4Port: nft lists `th dport` as `tcp dport` (or udp) where the rule
// already requires that protocol: the same load, spelled differently.
var l4Port = regexp.MustCompile(`\b(?:th|tcp|udp) ([sd]port)`)

func ruleLine(t *nf.Table, c *nf.Chain, r *nf.Rule, withText bool) string {
	es := make([]string, len(r.Exprs))
	run := 0
	for i, e := range r.Exprs {
		es[i] = normBraces(l4Port.ReplaceAllString(fmt.Sprintf("%T{%s}", e, e), "l4 $1"))
		// nft may list a run of pure comparisons in another order
		// (it merges adjacent payload loads); the order does not matter.
		if !pureMatch(e) {
			run = i + 1
			continue
		}
		sort.Strings(es[run : i+1])
	}
	s := fmt.Sprintf("rule %s %s #%d target=%q comment=%q counters=%v exprs=[%s]", t, c.Name, r.Index(), l4Port.ReplaceAllString(r.Target(), "l4 $1"), r.Comment(), r.Counters(), strings.Join(es, "; "))
	if withText {
		s += " text=" + strings.Join(strings.Fields(r.Text), " ")
	}
	return s
}

func setLines(t *nf.Table) []string {
	var out []string
	for name, s := range t.Sets {
		els := make([]string, len(s.Elements))
		for i, e := range s.Elements {
			els[i] = fmt.Sprintf("%v", e.Key)
			if e.Data != nil {
				els[i] += fmt.Sprintf(":%v", e.Data.Values)
				if e.Data.Verdict != nil {
					els[i] += e.Data.Verdict.String()
				}
			}
		}
		sort.Strings(els)
		out = append(out, fmt.Sprintf("set %s %s keys=%v data=%q elems=%v", t, name, s.KeyTypes, s.DataType, els))
	}
	sort.Strings(out)
	return out
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTextAndJSONAgree parses the text and the JSON of the same kernel
// state: both front-ends must build the same model, and the rule text
// printed from JSON must be what nft printed.
func TestTextAndJSONAgree(t *testing.T) {
	for _, name := range nativeCorpus {
		t.Run(name, func(t *testing.T) {
			fromText, err := ParseText(readTestdata(t, name+".txt"), name+".txt")
			if err != nil {
				t.Fatalf("ParseText: %v", err)
			}
			fromJSON, err := ParseJSON(readTestdata(t, name+".json"), name+".json")
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			for _, rs := range []*nf.Ruleset{fromText, fromJSON} {
				if err := nf.Validate(rs); err != nil {
					t.Fatalf("Validate: %v", err)
				}
			}
			if d := cmp.Diff(summary(fromJSON, true), summary(fromText, true)); d != "" {
				t.Errorf("JSON and text models differ (-json +text):\n%s", d)
			}
		})
	}
}

// normBraces sorts the elements of every inline set ("{ b, a }"), which
// the kernel lists in its own order.
func normBraces(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{ ")
		j := strings.Index(s, " }")
		if i < 0 || j < i {
			return b.String() + s
		}
		items := strings.Split(s[i+2:j], ", ")
		sort.Strings(items)
		b.WriteString(s[:i+2] + strings.Join(items, ", "))
		s = s[j:]
	}
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }

// pureMatch: a comparison without side effects, whose place among its
// neighbours does not change the result.
func pureMatch(e nf.Expr) bool {
	switch e.(type) {
	case *nf.FieldMatch, *nf.AddrTypeMatch, *nf.SetMatch:
		return true
	}
	return false
}

// TestScriptsAgreeWithKernelListing: the `add …` scripts CRI-O and
// OVN-Kubernetes write (through knftables) give the same model as the
// JSON the kernel listed after `nft -f` loaded them (testdata/listed).
func TestScriptsAgreeWithKernelListing(t *testing.T) {
	for _, name := range []string{"crio-hostports", "ovn-kubernetes"} {
		t.Run(name, func(t *testing.T) {
			script, err := ParseText(readTestdata(t, name+".nft"), name+".nft")
			if err != nil {
				t.Fatalf("ParseText: %v", err)
			}
			listed, err := ParseJSON(readTestdata(t, "listed/"+name+".json"), name+".json")
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if d := cmp.Diff(summary(listed, false), summary(script, false)); d != "" {
				t.Errorf("script and kernel listing differ (-listed +script):\n%s", d)
			}
		})
	}
}

// TestCorpusParses: every capture of the corpus (Docker, CNI portmap,
// podman, firewalld with either backend, kube-proxy in either mode) parses
// in both formats and validates.
func TestCorpusParses(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("got %d corpus files (%v), want some", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := readTestdata(t, strings.TrimPrefix(f, "testdata/"))
			parse := ParseText
			if strings.HasSuffix(f, ".json") {
				parse = ParseJSON
			}
			rs, err := parse(data, f)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if err := nf.Validate(rs); err != nil {
				t.Fatalf("validate: %v", err)
			}
		})
	}
}
