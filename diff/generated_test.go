package diff

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	"github.com/exposure-audit/exposure/internal/gen/randrules"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// parseText parses and validates an iptables-restore text as the CLI does.
func parseText(t *testing.T, text, name string) *nf.Ruleset {
	t.Helper()
	rs, err := iptables.Parse([]byte(text), iptables.Options{File: name})
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", name, err, text)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatalf("validate %s: %v", name, err)
	}
	return rs
}

// genDump is a generated ruleset as lines, with the line of every rule.
type genDump struct {
	lines  []string
	rules  []*randrules.Rule
	ruleAt map[*randrules.Rule]int
	family int
}

func newGenDump(rs *randrules.Ruleset) *genDump {
	d := &genDump{lines: strings.Split(strings.TrimSuffix(rs.Text, "\n"), "\n"), rules: rs.Rules, ruleAt: map[*randrules.Rule]int{}, family: rs.Family}
	k := 0
	for i, l := range d.lines {
		if strings.HasPrefix(l, "-A ") {
			d.ruleAt[rs.Rules[k]] = i
			k++
		}
	}
	return d
}

func (d *genDump) text(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// chainRules returns the generated rules of table/chain in order.
func (d *genDump) chainRules(table, chain string) []*randrules.Rule {
	var out []*randrules.Rule
	for _, r := range d.rules {
		if r.Table == table && r.Chain == chain {
			out = append(out, r)
		}
	}
	return out
}

// mutation is one edit of a generated ruleset and the single change it
// must produce.
type mutation struct {
	after string
	want  Change // Kind, Table, Chain, positions, texts
}

// uniqueChain reports whether the parsed chain has exactly n rules with
// pairwise different identities (so the expected alignment is the only one).
func uniqueChain(rs *nf.Ruleset, fam nf.Family, table, chain string, n int) bool {
	for _, t := range rs.Tables {
		if t.Family != fam || t.Name != table {
			continue
		}
		c := t.Chain(chain)
		if c == nil || len(c.Rules) != n {
			return false
		}
		seen := map[string]bool{}
		for _, r := range c.Rules {
			k := ruleKey(r)
			if seen[k] {
				return false
			}
			seen[k] = true
		}
		return true
	}
	return false
}

// mutate applies one random edit of the given kind to a chain with unique
// rules; ok is false when the ruleset has no suitable chain.
func mutate(r *rand.Rand, d *genDump, before *nf.Ruleset, kind Kind) (mutation, bool) {
	fam := nf.FamilyIPv4
	if d.family == 6 {
		fam = nf.FamilyIPv6
	}
	type target struct{ table, chain string }
	var cands []target
	for _, x := range d.rules {
		tg := target{x.Table, x.Chain}
		if !slices.Contains(cands, tg) && uniqueChain(before, fam, x.Table, x.Chain, len(d.chainRules(x.Table, x.Chain))) {
			cands = append(cands, tg)
		}
	}
	r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for _, tg := range cands {
		rules := d.chainRules(tg.table, tg.chain)
		if m, ok := mutateChain(r, d, tg.table, tg.chain, rules, kind); ok {
			m.want.Family, m.want.Table, m.want.Chain = string(fam), tg.table, tg.chain
			return m, true
		}
	}
	return mutation{}, false
}

func mutateChain(r *rand.Rand, d *genDump, table, chain string, rules []*randrules.Rule, kind Kind) (mutation, bool) {
	lines := slices.Clone(d.lines)
	n := len(rules)
	switch kind {
	case RuleInserted:
		p := 1 + r.IntN(n+1)
		text := fmt.Sprintf("-A %s -p tcp -m tcp --dport %d -m comment --comment diff-test -j ACCEPT", chain, 60000+r.IntN(5000))
		at := d.ruleAt[rules[n-1]] + 1
		if p <= n {
			at = d.ruleAt[rules[p-1]]
		}
		lines = slices.Insert(lines, at, text)
		return mutation{d.text(lines), Change{Kind: kind, PositionAfter: p, TextAfter: text}}, true
	case RuleDeleted:
		if n < 2 {
			return mutation{}, false
		}
		i := 1 + r.IntN(n)
		lines = slices.Delete(lines, d.ruleAt[rules[i-1]], d.ruleAt[rules[i-1]]+1)
		return mutation{d.text(lines), Change{Kind: kind, PositionBefore: i, TextBefore: rules[i-1].Text}}, true
	case RuleMoved:
		if n < 3 {
			return mutation{}, false
		}
		i, j := 1+r.IntN(n), 1+r.IntN(n)
		if j-i < 2 && i-j < 2 {
			return mutation{}, false
		}
		moved := rules[i-1].Text
		lines = slices.Delete(lines, d.ruleAt[rules[i-1]], d.ruleAt[rules[i-1]]+1)
		rest := slices.Delete(slices.Clone(rules), i-1, i)
		at := d.ruleAt[rules[0]] + len(rest) // after the last remaining rule
		if j <= len(rest) {
			at = d.ruleAt[rules[0]] + j - 1
		}
		lines = slices.Insert(lines, at, moved)
		return mutation{d.text(lines), Change{Kind: kind, PositionBefore: i, PositionAfter: j, TextBefore: moved, TextAfter: moved}}, true
	case RuleChanged:
		i := 1 + r.IntN(n)
		old := rules[i-1].Text
		text := "-A " + chain + " -m comment --comment diff-changed" + strings.TrimPrefix(old, "-A "+chain)
		lines[d.ruleAt[rules[i-1]]] = text
		return mutation{d.text(lines), Change{Kind: kind, PositionBefore: i, PositionAfter: i, TextBefore: old, TextAfter: text}}, true
	}
	return mutation{}, false
}

// TestGeneratedEdits inserts, deletes, moves or changes one random rule of
// a random ruleset (randrules, both families, every table) and checks that
// the diff reports exactly that edit, with its positions and texts.
func TestGeneratedEdits(t *testing.T) {
	kinds := []Kind{RuleInserted, RuleDeleted, RuleMoved, RuleChanged}
	done := map[Kind]int{}
	for seed := uint64(1); seed <= 120; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		cfg := randrules.DefaultConfig()
		cfg.Probes = 0
		if seed%2 == 0 {
			cfg.Family = 6
		}
		gen := randrules.Generate(r, cfg)
		d := newGenDump(gen)
		before := parseText(t, gen.Text, "before")
		for _, kind := range kinds {
			m, ok := mutate(r, d, before, kind)
			if !ok {
				continue
			}
			done[kind]++
			res := Compare(before, parseText(t, m.after, "after"))
			if len(res.Changes) != 1 {
				t.Fatalf("seed %d %s %s/%s: got %d changes, want 1:\n%s", seed, kind, m.want.Table, m.want.Chain, len(res.Changes), tableText(res))
			}
			got := res.Changes[0]
			got.Backend, got.SourceBefore, got.SourceAfter, got.Writer, got.WriterEvidence = "", "", "", "", ""
			if got != m.want {
				t.Errorf("seed %d: got %+v, want %+v", seed, got, m.want)
			}
		}
	}
	for _, k := range kinds {
		if done[k] < 50 {
			t.Errorf("only %d %s edits were tried, want at least 50", done[k], k)
		}
	}
}

func tableText(r *Result) string {
	var b bytes.Buffer
	_ = Table(&b, r)
	return b.String()
}

// TestGeneratedPolicyFlip flips one built-in chain's policy.
func TestGeneratedPolicyFlip(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		gen := randrules.Generate(rand.New(rand.NewPCG(seed, 5)), randrules.Config{Family: 4, Rules: 30, UserChains: 2, MaxDepth: 3, Features: randrules.FeaturesAll})
		before := parseText(t, gen.Text, "before")
		after := gen.Text
		switch {
		case strings.Contains(after, ":FORWARD ACCEPT"):
			after = strings.Replace(after, ":FORWARD ACCEPT", ":FORWARD DROP", 1)
		default:
			after = strings.Replace(after, ":FORWARD DROP", ":FORWARD ACCEPT", 1)
		}
		res := Compare(before, parseText(t, after, "after"))
		if len(res.Changes) != 1 || res.Changes[0].Kind != PolicyChanged || res.Changes[0].Chain != "FORWARD" {
			t.Fatalf("seed %d: got %s, want one policy_changed on FORWARD", seed, tableText(res))
		}
	}
}

// kubeProxyDumps renders the same node with and without one Service, in
// iptables and nftables mode.
func kubeProxyDumps(t *testing.T, svcs []kubeproxy.Service, nft bool) *nf.Ruleset {
	t.Helper()
	var b bytes.Buffer
	var err error
	if nft {
		_, err = kubeproxy.NFTRuleset(&b, kubeproxy.ScaleNode(), svcs, kubeproxy.Options{})
	} else {
		_, err = kubeproxy.IPTablesSave(&b, kubeproxy.ScaleNode(), svcs, kubeproxy.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	var rs *nf.Ruleset
	if nft {
		rs, err = nftables.ParseText(b.Bytes(), "gen.nft")
	} else {
		rs, err = iptables.Parse(b.Bytes(), iptables.Options{File: "gen.save"})
	}
	if err == nil {
		err = nf.Validate(rs)
	}
	if err != nil {
		t.Fatalf("load generated kube-proxy ruleset: %v", err)
	}
	return rs
}

// TestGeneratedKubeProxyService adds and removes one Service of a
// generated kube-proxy node (iptables and nftables mode): every change
// must be kube-proxy's, name that Service or lie in a chain or set made
// for it, and go one way only (insertions for an added Service, deletions
// for a removed one); the number of rules reported equals the difference
// in rule counts.
func TestGeneratedKubeProxyService(t *testing.T) {
	svcs, err := kubeproxy.Scale(60, 3, 11)
	if err != nil {
		t.Fatal(err)
	}
	for _, nft := range []bool{false, true} {
		for _, k := range []int{1, 7, 23, 42, 59} {
			name := fmt.Sprintf("nft=%t/service %d", nft, k)
			t.Run(name, func(t *testing.T) {
				svc := svcs[k]
				without := slices.Delete(slices.Clone(svcs), k, k+1)
				full, less := kubeProxyDumps(t, svcs, nft), kubeProxyDumps(t, without, nft)
				checkOneWay(t, Compare(less, full), svc, rulesIn(full)-rulesIn(less), true)
				checkOneWay(t, Compare(full, less), svc, rulesIn(full)-rulesIn(less), false)
			})
		}
	}
}

func rulesIn(rs *nf.Ruleset) int {
	n := 0
	for _, t := range rs.Tables {
		n += tableRules(t)
	}
	return n
}

func checkOneWay(t *testing.T, res *Result, svc kubeproxy.Service, wantRules int, added bool) {
	t.Helper()
	allowed := map[Kind]bool{ChainAdded: true, RuleInserted: true, ElementAdded: true, SetAdded: true}
	if !added {
		allowed = map[Kind]bool{ChainRemoved: true, RuleDeleted: true, ElementRemoved: true, SetRemoved: true, ChainEmptied: true}
	}
	svcName := svc.Namespace + "/" + svc.Name
	newChains := map[string]bool{}
	rules := 0
	for _, c := range res.Changes {
		if !allowed[c.Kind] {
			t.Errorf("added=%t: unexpected %s in %s: %s%s", added, c.Kind, c.Chain, c.TextBefore, c.TextAfter)
		}
		if c.Writer != WriterKubeProxy {
			t.Errorf("%s %s: got writer %s, want kube-proxy", c.Kind, c.Chain, c.Writer)
		}
		switch c.Kind {
		case ChainAdded, ChainRemoved:
			newChains[c.Chain] = true
		case RuleInserted, RuleDeleted:
			rules++
			if !newChains[c.Chain] && !strings.Contains(c.TextBefore+c.TextAfter, svcName) && !strings.Contains(c.TextBefore+c.TextAfter, svc.ClusterIP.String()) {
				t.Errorf("%s in %s does not belong to %s: %s%s", c.Kind, c.Chain, svcName, c.TextBefore, c.TextAfter)
			}
		}
	}
	if rules != wantRules {
		t.Errorf("added=%t: got %d rule changes, want %d (the difference in rule counts)\n%s", added, rules, wantRules, tableText(res))
	}
}
