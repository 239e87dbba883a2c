package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/kube"
)

// Audit is the result of `exposure audit`: the node's exposure map and,
// when the cluster's objects were joined (package kube), the Node's name
// and the findings. Findings is never nil, so the JSON always carries
// "findings" ([] when none or when no objects were joined).
type Audit struct {
	*exposure.Report
	Node     string         `json:"node,omitempty"`
	Findings []kube.Finding `json:"findings"`
	// Joined says the owners were checked against the cluster's objects:
	// the table then groups the exposure by owner.
	Joined bool `json:"-"`
}

// AuditTable renders an audit for people. Without joined objects it is
// exposure.WriteTable. With them, the open and forwarded ports a
// Kubernetes object owns come first, one line per object, way of exposure
// and port ("default/web:http  NodePort  tcp 30080  → 2 endpoints,
// forwarded from 0.0.0.0/0  on 192.0.2.2 (eth0)"); then the other ports
// as exposure.WriteTable prints them; then the findings.
func AuditTable(w io.Writer, a *Audit) error {
	if !a.Joined {
		return exposure.WriteTable(w, a.Report)
	}
	owned, rest := splitOwned(a.Report)
	ew := &errWriter{w: w}
	ew.printf("KUBERNETES OBJECTS EXPOSED ON NODE %s\n", orDash(a.Node))
	if ew.err != nil {
		return fmt.Errorf("write table: %w", ew.err)
	}
	if err := writeOwned(w, owned); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nOTHER PORTS")
	if err := exposure.WriteTable(w, rest); err != nil {
		return err
	}
	return writeFindings(w, a.Findings)
}

// splitOwned separates the open and forwarded rows whose owner names a
// Kubernetes object from the rest of the map.
func splitOwned(r *exposure.Report) (owned []exposure.Exposure, rest *exposure.Report) {
	rest = &exposure.Report{Notes: r.Notes}
	for _, e := range r.Exposures {
		if e.Owner.Name != "" && (e.State == exposure.Open || e.State == exposure.Forwarded) {
			owned = append(owned, e)
			continue
		}
		rest.Exposures = append(rest.Exposures, e)
	}
	return owned, rest
}

// ownedGroup is one line of the owner table: what it gathers from its rows.
type ownedGroup struct {
	object, via, ports, state string
	to, sources, on           []string
}

func writeOwned(w io.Writer, rows []exposure.Exposure) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	groups := groupOwned(rows)
	if len(groups) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t→ %s, %s from %s\ton %s\n", g.object, g.via, g.ports,
			toText(g.to), g.state, sourcesText(g.sources), listText(g.on, 3))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// groupOwned gathers the rows by object, way of exposure, protocol, ports,
// state and who answers (externalTrafficPolicy Local sends outside
// clients to fewer endpoints than pods), sorted by those.
func groupOwned(rows []exposure.Exposure) []*ownedGroup {
	byKey := map[string]*ownedGroup{}
	var keys []string
	for _, e := range rows {
		g := &ownedGroup{object: exposure.ObjectText(e.Owner), via: viaText(e.Owner.Via), ports: e.Proto + " " + portsText(e), state: e.State}
		to := targets(e)
		slices.Sort(to)
		k := strings.Join([]string{g.object, g.via, e.Proto, fmt.Sprintf("%05d", e.PortFrom), g.ports, g.state, strings.Join(to, ",")}, "\x00")
		if old, ok := byKey[k]; ok {
			g = old
		} else {
			byKey[k] = g
			keys = append(keys, k)
		}
		g.to = addUnique(g.to, to...)
		g.sources = addUnique(g.sources, e.Sources...)
		g.on = addUnique(g.on, fmt.Sprintf("%s (%s)", e.Addr, orDash(e.Iface)))
	}
	slices.Sort(keys)
	out := make([]*ownedGroup, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

// targets names who answers a row: the DNAT targets, else the listener.
func targets(e exposure.Exposure) []string {
	var out []string
	for _, t := range e.To {
		out = append(out, fmt.Sprintf("%s:%d", t.Addr, t.Port))
	}
	if l := e.Listener; len(out) == 0 && l.Port != 0 {
		s := fmt.Sprintf("%s:%d", l.Addr, l.Port)
		if l.Process != "" {
			s = fmt.Sprintf("%s[%d] on %s", l.Process, l.PID, s)
		}
		out = append(out, s)
	}
	return out
}

// toText says "2 endpoints" for several DNAT targets, else the one target.
func toText(to []string) string {
	switch {
	case len(to) == 0:
		return "nothing"
	case len(to) == 1 && !strings.Contains(to[0], "["):
		return "1 endpoint " + to[0]
	case len(to) == 1:
		return to[0]
	}
	return fmt.Sprintf("%d endpoints", len(to))
}

// viaText spells a Via as the Service type or pod field it comes from
// (nodePort → NodePort).
func viaText(v exposure.Via) string {
	s := string(v)
	if s == "" {
		return "-"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func portsText(e exposure.Exposure) string {
	switch {
	case e.Proto == "icmp":
		return "echo"
	case e.PortFrom == e.PortTo:
		return fmt.Sprint(e.PortFrom)
	}
	return fmt.Sprintf("%d-%d", e.PortFrom, e.PortTo)
}

func listText(xs []string, n int) string {
	if len(xs) == 0 {
		return "-"
	}
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s (+%d)", strings.Join(xs[:n], ", "), len(xs)-n)
}

func addUnique(xs []string, more ...string) []string {
	for _, x := range more {
		if !slices.Contains(xs, x) {
			xs = append(xs, x)
		}
	}
	return xs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeFindings lists the findings, one line each with its evidence
// below.
func writeFindings(w io.Writer, fs []kube.Finding) error {
	ew := &errWriter{w: w}
	ew.printf("\nFINDINGS (%d)\n", len(fs))
	if len(fs) == 0 {
		ew.printf("(none: the node programs what the cluster declares)\n")
	}
	for _, f := range fs {
		ew.printf("%-6s %s %s: %s\n", f.Severity, f.ID, refText(f.Object), f.Message)
		for _, ev := range f.Evidence {
			ew.printf("       evidence: %s\n", ev)
		}
	}
	if ew.err != nil {
		return fmt.Errorf("write table: %w", ew.err)
	}
	return nil
}

// refText names an object "Service default/web", or only its name when it
// has no kind (an unowned port).
func refText(o kube.ObjectRef) string {
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + name
	}
	if o.Kind == "" {
		return name
	}
	return o.Kind + " " + name
}
