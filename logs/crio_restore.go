package logs

import (
	"cmp"
	"slices"
	"strings"
)

// hostport is one entry of a CRI-O hostport ruleset.
type hostport struct {
	chain, proto, pod, addr, to string
	port                        int
}

// restore reads the iptables-restore input CRI-O logs on every hostport
// Add and Remove (hostport_manager.go syncIPTables). It holds the new rules
// ("-I KUBE-HOSTPORTS -m comment --comment "<sandbox> hostport 80" -m tcp -p
// tcp --dport 80 -j KUBE-HP-…", "-A KUBE-HP-… … -j DNAT
// --to-destination=10.88.0.5:80") and every existing one as iptables-save
// prints it, so it is the whole ruleset of one family: one snapshot event
// per host port, or one with port 0 when none is left.
func (c *crio) restore(rec *Record, l logrusLine, payload string, emit func(Event)) error {
	if !strings.Contains(payload, "*nat") {
		return lineErr(SourceCRIO, "read hostport ruleset: no *nat table")
	}
	hps := hostportsOf(payload)
	base := eventAt(rec, l.Time, !l.Time.IsZero(), SourceCRIO, ActionSnapshot)
	if len(hps) == 0 {
		base.Chain = "KUBE-HOSTPORTS"
		emit(base)
		return nil
	}
	for _, h := range hps {
		e := base
		e.Proto, e.Port, e.Chain, e.Pod, e.Addr, e.To = h.proto, h.port, h.chain, h.pod, h.addr, h.to
		e.Family = familyOf(h.to)
		emit(e)
	}
	return nil
}

// hostportsOf joins the KUBE-HOSTPORTS jumps with the DNAT rules of the
// per-port chains, skipping chains the payload deletes (-X).
func hostportsOf(payload string) []hostport {
	byChain := map[string]*hostport{}
	dnat := map[string]ruleArgs{}
	deleted := map[string]bool{}
	for _, line := range strings.Split(payload, "\n") {
		if name, ok := strings.CutPrefix(line, "-X "); ok {
			deleted[strings.TrimSpace(name)] = true
			continue
		}
		r := parseRuleArgs(line)
		switch {
		case r.Chain == "KUBE-HOSTPORTS" && strings.HasPrefix(r.Target, "KUBE-HP-"):
			port, _, ok := parsePortRange(r.DPort)
			if !ok {
				continue
			}
			byChain[r.Target] = &hostport{chain: r.Target, proto: r.Proto, port: port, pod: podOfComment(r.Comment)}
		case strings.HasPrefix(r.Chain, "KUBE-HP-") && r.Target == "DNAT":
			dnat[r.Chain] = r
		}
	}
	return joinHostports(byChain, dnat, deleted)
}

func joinHostports(byChain map[string]*hostport, dnat map[string]ruleArgs, deleted map[string]bool) []hostport {
	var out []hostport
	for name, h := range byChain {
		if deleted[name] {
			continue
		}
		if d, ok := dnat[name]; ok {
			h.addr, h.to = d.Dest, d.ToDest
		}
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b hostport) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto), cmp.Compare(a.to, b.to))
	})
	return out
}

// podOfComment reads "<full name> hostport <P>". The full name is
// getPodFullName: sandbox name + "_" + namespace; the sandbox name is
// "k8s_POD_<pod>_<namespace>_<uid>_<attempt>" (≤1.30 leaves the namespace
// empty, hence a trailing "_"). It returns "namespace/pod" when it can.
func podOfComment(c string) string {
	name, _, _ := strings.Cut(c, " hostport ")
	parts := strings.Split(name, "_")
	if len(parts) >= 6 && parts[0] == "k8s" {
		return parts[3] + "/" + parts[2]
	}
	if n, ns, ok := strings.Cut(name, "_"); ok && ns != "" {
		return ns + "/" + n
	}
	return strings.TrimSuffix(name, "_")
}
