package randrules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/exposure-audit/exposure/internal/netns"
)

// hooks is a set of netfilter hooks a chain can be reached from.
type hooks uint8

const (
	hPre hooks = 1 << iota
	hIn
	hFwd
	hOut
	hPost
)

// builtinHook maps a built-in chain to its hook.
var builtinHook = map[string]hooks{"PREROUTING": hPre, "INPUT": hIn, "FORWARD": hFwd, "OUTPUT": hOut, "POSTROUTING": hPost}

// within reports whether every hook of h is in allowed. An empty h (a chain no
// built-in reaches) is within anything, as the kernel's check sees it.
func (h hooks) within(allowed hooks) bool { return h&^allowed == 0 }

// Rule is one generated rule.
type Rule struct {
	Table, Chain string
	Index        int    // 1-based position in Chain
	Text         string // the rule as written: "-A CHAIN ..."
	Jump         string // user chain this rule jumps or goes to; "" otherwise
	Goto         bool   // Jump is a -g goto
	target       string // target name ("" for none)
	cond         cond   // what a packet needs to match the rule
}

// Ruleset is one generated ruleset and the probes aimed at it.
type Ruleset struct {
	Family int
	Text   string  // iptables-restore input, every table with COMMIT
	Rules  []*Rule // in text order
	Probes []Probe
}

// Probe is a lab probe and what it was aimed at.
type Probe struct {
	netns.Probe
	Aim  string   // "table/chain#index" of the targeted rule, or "random"
	Path []string // the jump rules the probe was steered through, from a built-in chain down, then Aim
}

// key returns "table/chain#index".
func (rl *Rule) key() string { return fmt.Sprintf("%s/%s#%d", rl.Table, rl.Chain, rl.Index) }

// chain is one chain under construction.
type chain struct {
	table, name string
	builtin     bool
	policy      string
	depth       int // 0 for built-ins
	rules       []*Rule
	hooks       hooks
	callers     []*Rule
}

// gen carries the state of one generation.
type gen struct {
	r      *rand.Rand
	cfg    Config
	chains []*chain // every chain, tables in order, built-ins first
	pl     *pools
}

// Generate builds a ruleset and its probes from r and cfg.
func Generate(r *rand.Rand, cfg Config) *Ruleset {
	g := &gen{r: r, cfg: cfg.normalized()}
	g.pl = poolsFor(g.cfg.Family)
	for _, t := range g.cfg.Tables {
		g.addTable(t)
	}
	g.placeRules()
	g.computeHooks()
	g.fillRules()
	rs := &Ruleset{Family: g.cfg.Family, Text: g.text()}
	for _, c := range g.chains {
		rs.Rules = append(rs.Rules, c.rules...)
	}
	rs.Probes = g.probes()
	return rs
}

// addTable creates a table's built-in chains and user chains with their depths.
func (g *gen) addTable(t string) {
	for _, name := range netns.BuiltinChains[t] {
		pol := "ACCEPT"
		odds := 40 // a DROP policy early in the path hides everything after it
		if t == "filter" {
			odds = 5
		}
		if t != "nat" && g.cfg.Features.Has(FeatDropPolicy) && g.r.IntN(odds) == 0 {
			pol = "DROP"
		}
		g.chains = append(g.chains, &chain{table: t, name: name, builtin: true, policy: pol, hooks: builtinHook[name]})
	}
	n := g.cfg.UserChains
	for i := range n {
		depth := 1 + i*g.cfg.MaxDepth/max(n, 1)
		g.chains = append(g.chains, &chain{table: t, name: g.chainName(t, i), depth: depth})
	}
}

// chainNames are stems in the style of real rulesets (Docker, kube-proxy, CNI).
var chainNames = []string{"USER", "KUBE-SVC", "DOCKER", "CNI-DN", "FW-IN", "ZONE_public", "f2b", "x"}

// chainName returns a unique, valid (at most 28 bytes) user chain name.
func (g *gen) chainName(t string, i int) string {
	return fmt.Sprintf("%s-%s%d", chainNames[g.r.IntN(len(chainNames))], strings.ToUpper(t[:2]), i)
}

// tableChains returns the chains of table t.
func (g *gen) tableChains(t string) []*chain {
	var out []*chain
	for _, c := range g.chains {
		if c.table == t {
			out = append(out, c)
		}
	}
	return out
}

// placeRules creates the rule slots: one jump into every user chain from a chain
// one level up (so that every depth is reachable), then the remaining rules spread
// over all chains, some of them extra jumps to deeper chains.
func (g *gen) placeRules() {
	jumps := 0
	for _, c := range g.chains {
		if c.builtin {
			continue
		}
		caller := g.pickCaller(c)
		g.addJump(caller, c)
		jumps++
	}
	for range max(g.cfg.Rules-jumps, 0) {
		c := g.chains[g.r.IntN(len(g.chains))]
		if deeper := g.deeper(c); len(deeper) > 0 && g.r.IntN(7) == 0 {
			g.addJump(c, deeper[g.r.IntN(len(deeper))])
			continue
		}
		c.rules = append(c.rules, &Rule{Table: c.table, Chain: c.name})
	}
	for _, c := range g.chains {
		g.r.Shuffle(len(c.rules), func(i, j int) { c.rules[i], c.rules[j] = c.rules[j], c.rules[i] })
		for i, rl := range c.rules {
			rl.Index = i + 1
		}
	}
}

// pickCaller returns a chain of the same table one level above c (a built-in for depth 1).
func (g *gen) pickCaller(c *chain) *chain {
	var cands []*chain
	for want := c.depth - 1; len(cands) == 0 && want >= 0; want-- {
		for _, o := range g.tableChains(c.table) {
			if o.depth == want {
				cands = append(cands, o)
			}
		}
	}
	return cands[g.r.IntN(len(cands))]
}

// deeper returns the user chains of c's table strictly deeper than c.
func (g *gen) deeper(c *chain) []*chain {
	var out []*chain
	for _, o := range g.tableChains(c.table) {
		if !o.builtin && o.depth > c.depth {
			out = append(out, o)
		}
	}
	return out
}

// addJump appends a jump (or goto) rule from c to target.
func (g *gen) addJump(c, target *chain) {
	rl := &Rule{Table: c.table, Chain: c.name, Jump: target.name}
	rl.Goto = g.cfg.Features.Has(FeatGoto) && g.r.IntN(4) == 0
	c.rules = append(c.rules, rl)
	target.callers = append(target.callers, rl)
}

// computeHooks propagates built-in hooks down the jump graph, shallow to deep.
func (g *gen) computeHooks() {
	order := slices.Clone(g.chains)
	slices.SortStableFunc(order, func(a, b *chain) int { return a.depth - b.depth })
	for _, c := range order {
		for _, rl := range c.rules {
			if rl.Jump != "" {
				g.chain(c.table, rl.Jump).hooks |= c.hooks
			}
		}
	}
}

// chain returns the chain named name in table t.
func (g *gen) chain(t, name string) *chain {
	for _, c := range g.chains {
		if c.table == t && c.name == name {
			return c
		}
	}
	return nil
}

// fillRules writes every rule's matches and target. In two chains of three the
// rules that end the chain's traversal (verdicts, NAT, RETURN) then move after
// the others, as real rulesets tend to be written, so that probes reach deeper.
func (g *gen) fillRules() {
	for _, c := range g.chains {
		for _, rl := range c.rules {
			g.fillRule(c, rl)
		}
		if g.r.IntN(3) != 0 {
			slices.SortStableFunc(c.rules, func(x, y *Rule) int { return x.ends() - y.ends() })
		}
		for i, rl := range c.rules {
			rl.Index = i + 1
		}
	}
}

// terminal lists the targets after which the chain's traversal does not go on.
var terminal = []string{"ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "REDIRECT"}

// ends returns 1 when the rule ends its chain's traversal on a match, else 0.
func (rl *Rule) ends() int {
	if rl.Goto || slices.Contains(terminal, rl.target) {
		return 1
	}
	return 0
}

// text renders the restore input: tables in order, chains, rules, COMMIT.
func (g *gen) text() string {
	var sb strings.Builder
	for _, t := range g.cfg.Tables {
		fmt.Fprintf(&sb, "*%s\n", t)
		cs := g.tableChains(t)
		for _, c := range cs {
			pol := c.policy
			if !c.builtin {
				pol = "-"
			}
			fmt.Fprintf(&sb, ":%s %s [0:0]\n", c.name, pol)
		}
		for _, c := range cs {
			for _, rl := range c.rules {
				sb.WriteString(rl.Text + "\n")
			}
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String()
}
