package trace

import (
	"sort"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// entryKind is what sits on a hook.
type entryKind uint8

const (
	entryChain entryKind = iota
	// entryConntrack: nf_conntrack_in (PREROUTING and OUTPUT, priority
	// -200): attaches the conntrack entry and decides the state.
	entryConntrack
	// entryNAT: nf_nat's hook (dstnat -100 on PREROUTING/OUTPUT, srcnat 100
	// on INPUT/POSTROUTING), which runs the nat chains of the hook in
	// priority order until one sets up a binding (nf_nat_inet_fn).
	entryNAT
)

// entry is one function registered on a hook.
type entry struct {
	kind  entryKind
	prio  int
	chain *nf.Chain
	nat   []*nf.Chain
	// reg orders registration: at equal priority the kernel runs the one
	// registered last first (nf_hook_entries_grow).
	reg int
}

// plan lists, per IP family and hook, what runs there, in kernel order.
type plan struct {
	hooks [2][nf.NumHooks][]entry
	// conntrack[f]: some rule of family f needs conntrack, so the kernel
	// registered nf_conntrack's hooks; otherwise no packet is tracked and
	// the nat chains never run.
	conntrack [2]bool
	// ties records equal-priority neighbours from different tables, whose
	// order depends on registration order the dumps do not show.
	ties []string
}

func famIndex(f nf.IPFamily) int {
	if f == nf.IPv6 {
		return 1
	}
	return 0
}

func newPlan(rs *nf.Ruleset) *plan {
	p := &plan{}
	for fi, fam := range []nf.IPFamily{nf.IPv4, nf.IPv6} {
		for _, t := range rs.Tables {
			if t.Family.Sees(fam) && t.UsesConntrack() {
				p.conntrack[fi] = true
			}
		}
		for h := nf.Hook(0); h < nf.NumHooks; h++ {
			p.hooks[fi][h] = buildHook(rs, fam, h, p.conntrack[fi])
		}
	}
	return p
}

func buildHook(rs *nf.Ruleset, fam nf.IPFamily, h nf.Hook, ct bool) []entry {
	var es []entry
	var nat []entry
	for _, t := range rs.Tables {
		if !t.Family.Sees(fam) || t.Dormant {
			continue
		}
		for ci, c := range t.Chains {
			if c.Base == nil || c.Base.Hook != h {
				continue
			}
			e := entry{kind: entryChain, prio: c.Base.Priority, chain: c, reg: t.Seq*1_000_000 + ci}
			if c.Base.Type == nf.ChainTypeNAT {
				nat = append(nat, e)
			} else {
				es = append(es, e)
			}
		}
	}
	if !ct {
		return sortedEntries(es)
	}
	if h == nf.HookPrerouting || h == nf.HookOutput {
		es = append(es, entry{kind: entryConntrack, prio: nf.PriConntrack})
	}
	if len(nat) > 0 || natHook(h) && natRegistered(rs, fam) {
		sortEntries(nat)
		mux := entry{kind: entryNAT, prio: nf.NATPriority(h)}
		for _, e := range nat {
			mux.nat = append(mux.nat, e.chain)
		}
		es = append(es, mux)
	}
	return sortedEntries(es)
}

// natHook: nf_nat registers its hook on PREROUTING, INPUT, OUTPUT and
// POSTROUTING (nf_nat_ipv4_ops / nf_nat_ipv6_ops).
func natHook(h nf.Hook) bool { return h != nf.HookForward && h != nf.HookIngress }

// natRegistered reports whether some nat chain of family fam exists: the
// first one registers nf_nat's hook on all four NAT hooks at once
// (nf_nat_register_fn), so a hook without nat chains still runs an empty
// multiplexer, which records a null binding (nf_nat_inet_fn). A looped-back
// local packet then skips the nat PREROUTING chains.
func natRegistered(rs *nf.Ruleset, fam nf.IPFamily) bool {
	for _, t := range rs.Tables {
		if !t.Family.Sees(fam) || t.Dormant {
			continue
		}
		for _, c := range t.Chains {
			if c.Base != nil && c.Base.Type == nf.ChainTypeNAT {
				return true
			}
		}
	}
	return false
}

func sortedEntries(es []entry) []entry {
	sortEntries(es)
	return es
}

// sortEntries orders by priority; at equal priority the entry registered
// later comes first.
func sortEntries(es []entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].prio != es[j].prio {
			return es[i].prio < es[j].prio
		}
		return es[i].reg > es[j].reg
	})
}
