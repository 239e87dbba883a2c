package exposure

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable renders the report for people: open and forwarded ranges
// first, with their sources, destination or listener, owner and
// conditions; then per interface, protocol and address a summary of the
// closed and filtered ranges; then the control-plane call-outs.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IFACE\tPROTO\tADDR\tPORTS\tSTATE\tSOURCES\tTO / LISTENER\tOWNER\tCONDITIONS")
	for _, l := range tableLines(r) {
		fmt.Fprintln(tw, l)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	fmt.Fprintln(w, "\nCLOSED AND FILTERED")
	writeSummary(w, r)
	writeCallouts(w, r)
	return nil
}

func ports(e Exposure) string {
	if e.Proto == "icmp" {
		return "echo"
	}
	if e.PortFrom == e.PortTo {
		return fmt.Sprint(e.PortFrom)
	}
	return fmt.Sprintf("%d-%d", e.PortFrom, e.PortTo)
}

// shortList shows the first n items and how many more there are.
func shortList(xs []string, n int) string {
	if len(xs) == 0 {
		return "-"
	}
	if len(xs) <= n {
		return strings.Join(xs, ",")
	}
	return fmt.Sprintf("%s (+%d)", strings.Join(xs[:n], ","), len(xs)-n)
}

// answerer says who answers: the NAT targets, or the listening process.
func answerer(e Exposure) string {
	var parts []string
	for _, t := range e.To {
		p := fmt.Sprint(t.Port)
		if t.PortTo > 0 {
			p = fmt.Sprintf("%d-%d", t.Port, t.PortTo)
		}
		s := fmt.Sprintf("%s:%s", t.Addr, p)
		if t.Probability < 0.9999 {
			s += fmt.Sprintf(" (%.0f%%)", t.Probability*100)
		}
		parts = append(parts, s)
	}
	if l := e.Listener; l.Port != 0 {
		s := fmt.Sprintf("%s:%d", l.Addr, l.Port)
		if l.Process != "" {
			s += fmt.Sprintf(" %s[%d]", l.Process, l.PID)
		}
		if l.Container != "" {
			s += " container " + short(l.Container)
		}
		if l.PodUID != "" {
			s += " pod " + l.PodUID
		}
		parts = append(parts, s)
	}
	return shortList(parts, 3)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ObjectText names the Kubernetes object of an owner the way kubectl and
// kube-proxy comments do: "namespace/name:port" for a Service port
// ("namespace/name" when the port is not known), "pod namespace/name" for
// a Pod (with "/container" when known); "" when no object is named.
func ObjectText(o Owner) string {
	if o.Name == "" {
		return ""
	}
	s := o.Namespace + "/" + o.Name
	switch {
	case o.Kind == KindPod:
		s = "pod " + s
		if o.ContainerName != "" {
			s += "/" + o.ContainerName
		}
	case o.Port != "":
		s += ":" + o.Port
	}
	return s
}

func ownerText(o Owner) string {
	s := o.Component
	if o.Name != "" {
		s += " " + ObjectText(o)
	}
	if o.Via != "" {
		s += " " + string(o.Via)
	}
	if o.Component == CompUnattributed && o.Chain != "" {
		s += fmt.Sprintf(" %s#%d", o.Chain, o.Rule)
	}
	if o.Container != "" {
		s += " " + short(o.Container)
	}
	return s
}

// writeSummary lists the closed and filtered ranges per unit.
func writeSummary(w io.Writer, r *Report) {
	type key struct{ iface, proto, addr string }
	var order []key
	ranges := map[key]map[string][]string{}
	last := map[string]int{}
	for _, e := range r.Exposures {
		if e.State != Closed && e.State != Filtered {
			continue
		}
		k := key{e.Iface, e.Proto, e.Addr}
		if ranges[k] == nil {
			order = append(order, k)
			ranges[k] = map[string][]string{}
		}
		p := ports(e)
		from := ""
		if l := len(e.Sources); l > 0 && e.Sources[0] != "0.0.0.0/0" && e.Sources[0] != "::/0" {
			from = " from " + shortList(e.Sources, 1)
		}
		rs := ranges[k][e.State]
		if n := len(rs); n > 0 && from == "" && last[k.iface+k.proto+k.addr+e.State]+1 == e.PortFrom && !strings.Contains(rs[n-1], " ") {
			lo, _, _ := strings.Cut(rs[n-1], "-")
			rs[n-1] = lo + "-" + fmt.Sprint(e.PortTo)
		} else {
			rs = append(rs, p+from)
		}
		ranges[k][e.State] = rs
		last[k.iface+k.proto+k.addr+e.State] = e.PortTo
	}
	for _, k := range order {
		fmt.Fprintf(w, "%s %s %s:", k.iface, k.proto, k.addr)
		for _, st := range []string{Closed, Filtered} {
			if rs := ranges[k][st]; len(rs) > 0 {
				fmt.Fprintf(w, " %s %s;", st, shortList(rs, 6))
			}
		}
		fmt.Fprintln(w)
	}
}

// writeCallouts lists the exposed control-plane ports.
func writeCallouts(w io.Writer, r *Report) {
	seen := map[string]bool{}
	for _, e := range r.Exposures {
		if e.Sensitive == "" {
			continue
		}
		line := fmt.Sprintf("%s %s:%s %s (%s) on %s", e.Proto, e.Addr, ports(e), e.State, e.Sensitive, e.Iface)
		if !seen[line] {
			if len(seen) == 0 {
				fmt.Fprintln(w, "\nCONTROL-PLANE PORTS EXPOSED")
			}
			seen[line] = true
			fmt.Fprintln(w, line)
		}
	}
}

// tableLines merges the open and forwarded rows that differ only in their
// sources and paths (people read "who can reach what"; the JSON keeps each
// source class with its own path). When one line covers every source
// class of its ports, its sources read "any".
func tableLines(r *Report) []string {
	var order []string
	lines := map[string][]string{}
	perPorts := map[string]map[string]bool{}
	for _, e := range r.Exposures {
		if e.State != Open && e.State != Forwarded {
			continue
		}
		at := fmt.Sprintf("%s\t%s\t%s\t%s", e.Iface, e.Proto, e.Addr, ports(e))
		rest := fmt.Sprintf("%s\t\x00\t%s\t%s\t%s", e.State, answerer(e), ownerText(e.Owner), shortList(e.Conditions, 1))
		k := at + "\t" + rest
		if _, ok := lines[k]; !ok {
			order = append(order, k)
		}
		lines[k] = append(lines[k], e.Sources...)
		if perPorts[at] == nil {
			perPorts[at] = map[string]bool{}
		}
		perPorts[at][k] = true
	}
	var out []string
	for _, k := range order {
		at := strings.Join(strings.SplitN(k, "\t", 5)[:4], "\t")
		src := shortList(lines[k], 2)
		if len(perPorts[at]) == 1 && !hasFixedSource(r) {
			src = "any"
		}
		out = append(out, strings.Replace(k, "\x00", src, 1))
	}
	return out
}

// hasFixedSource reports a one-client view (--from): sources are that client.
func hasFixedSource(r *Report) bool {
	for _, e := range r.Exposures {
		if len(e.Sources) == 1 && (strings.HasSuffix(e.Sources[0], "/32") || strings.HasSuffix(e.Sources[0], "/128")) {
			return true
		}
		break
	}
	return false
}
