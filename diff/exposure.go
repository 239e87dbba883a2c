package diff

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/trace"
)

// ownerWriters maps package exposure's owner components to writers.
var ownerWriters = map[string]Writer{
	exposure.CompKubeProxy: WriterKubeProxy, exposure.CompOVNK: WriterOVNK, exposure.CompCNIPortmap: WriterCNI,
	exposure.CompCRIO: WriterCRIO, exposure.CompDocker: WriterDocker, exposure.CompPodman: WriterNetavark,
	exposure.CompCalico: WriterCalico, exposure.CompFirewalld: WriterFirewalld,
}

// CompareExposure computes the exposure map of both sides (each its
// ruleset, node environment and listeners; opt picks the units to analyse,
// the same for both) and returns what changed, with the analysis notes.
// changes are the structural changes the exposure changes cite.
func CompareExposure(before, after exposure.Input, opt exposure.Options, changes []Change) ([]ExposureChange, []string, error) {
	rb, err := exposure.Analyze(before, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("compare exposure: %w", err)
	}
	ra, err := exposure.Analyze(after, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("compare exposure: %w", err)
	}
	var notes []string
	for _, n := range append(rb.Notes, ra.Notes...) {
		if !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	return ExposureDiff(rb, ra, changes), notes, nil
}

// unitKey names one analysed unit: interface, protocol, local address.
type unitKey struct{ iface, proto, addr string }

// ExposureDiff compares two exposure maps of the same node view (same
// addresses, interfaces, protocols and listeners) and returns the port
// ranges whose state differs, coalesced, sorted by interface, protocol,
// address and port. Each change cites the changed rules on the packet's
// path before or after (from changes), and is attributed to the writer of
// the first of them, else to the owner the exposure map names.
func ExposureDiff(before, after *exposure.Report, changes []Change) []ExposureChange {
	bs, as := byUnit(before), byUnit(after)
	var keys []unitKey
	for k := range bs {
		keys = append(keys, k)
	}
	for k := range as {
		if _, ok := bs[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y unitKey) int {
		return cmp.Or(cmp.Compare(x.iface, y.iface), cmp.Compare(x.proto, y.proto), compareAddr(x.addr, y.addr))
	})
	out := []ExposureChange{}
	for _, k := range keys {
		out = append(out, unitDiff(k, bs[k], as[k], changes)...)
	}
	return out
}

// compareAddr orders addresses numerically (IPv4 first), falling back to
// text for anything else.
func compareAddr(x, y string) int {
	ax, errx := netip.ParseAddr(x)
	ay, erry := netip.ParseAddr(y)
	if errx != nil || erry != nil {
		return cmp.Compare(x, y)
	}
	return ax.Compare(ay)
}

func byUnit(r *exposure.Report) map[unitKey][]exposure.Exposure {
	m := map[unitKey][]exposure.Exposure{}
	if r == nil {
		return m
	}
	for _, e := range r.Exposures {
		k := unitKey{e.Iface, e.Proto, e.Addr}
		m[k] = append(m[k], e)
	}
	return m
}

// unitDiff sweeps the port boundaries of both sides and reports the
// stretches where what the sources observe differs.
func unitDiff(k unitKey, bs, as []exposure.Exposure, changes []Change) []ExposureChange {
	var out []ExposureChange
	bounds := portBounds(bs, as)
	for i := 0; i+1 < len(bounds); i++ {
		lo, hi := bounds[i], bounds[i+1]-1
		b, a := covering(bs, lo), covering(as, lo)
		if view(b) == view(a) || (len(b) == 0 && !exposed(a)) || (len(a) == 0 && !exposed(b)) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].PortTo == lo-1 && sameChange(out[n-1], b, a) {
			out[n-1].PortTo = hi
			continue
		}
		out = append(out, exposureChange(k, lo, hi, b, a, changes))
	}
	return out
}

// exposed reports whether some source reaches something: an address that
// exists on one side only (a new bridge, a container's link-local address)
// is reported where it is open or forwarded, not where nothing answers.
func exposed(es []exposure.Exposure) bool {
	for _, e := range es {
		if e.State == exposure.Open || e.State == exposure.Forwarded {
			return true
		}
	}
	return false
}

// portBounds returns every range start and every end+1 of both sides.
func portBounds(sides ...[]exposure.Exposure) []int {
	var out []int
	for _, es := range sides {
		for _, e := range es {
			out = append(out, e.PortFrom, e.PortTo+1)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// covering returns the exposures (one per source class) holding port p.
func covering(es []exposure.Exposure, p int) []exposure.Exposure {
	var out []exposure.Exposure
	for _, e := range es {
		if e.PortFrom <= p && p <= e.PortTo {
			out = append(out, e)
		}
	}
	return out
}

// view is what the sources observe: state and destinations per source
// class, in a canonical order.
func view(es []exposure.Exposure) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = strings.Join(e.Sources, ",") + "=" + e.State + strings.Join(targets(e), ",")
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

func sameChange(c ExposureChange, b, a []exposure.Exposure) bool {
	return c.Before == state(b) && c.After == state(a) && slices.Equal(c.To, allTargets(a)) && slices.Equal(c.ToBefore, allTargets(b))
}

// state is the state every source observes, or "mixed: open from X;
// filtered from Y" when the source classes differ; "none" when the unit
// was not analysed on that side.
func state(es []exposure.Exposure) string {
	if len(es) == 0 {
		return "none"
	}
	states := map[string][]string{}
	for _, e := range es {
		states[e.State] = append(states[e.State], e.Sources...)
	}
	if len(states) == 1 {
		return es[0].State
	}
	var parts []string
	for s, srcs := range states {
		slices.Sort(srcs)
		parts = append(parts, s+" from "+strings.Join(srcs, ","))
	}
	slices.Sort(parts)
	return "mixed: " + strings.Join(parts, "; ")
}

func targets(e exposure.Exposure) []string {
	out := make([]string, len(e.To))
	for i, t := range e.To {
		out[i] = fmt.Sprintf("%s:%d", t.Addr, t.Port)
		if t.Probability > 0 && t.Probability < 1 {
			out[i] += fmt.Sprintf(" (p=%.3g)", t.Probability)
		}
	}
	return out
}

func allTargets(es []exposure.Exposure) []string {
	out := []string{}
	for _, e := range es {
		for _, t := range targets(e) {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func exposureChange(k unitKey, lo, hi int, b, a []exposure.Exposure, changes []Change) ExposureChange {
	c := ExposureChange{Proto: k.proto, Addr: k.addr, Iface: k.iface, PortFrom: lo, PortTo: hi,
		Before: state(b), After: state(a), Sources: []string{}, To: allTargets(a), ToBefore: allTargets(b), Why: []string{}}
	var srcs []string
	for _, e := range a {
		srcs = append(srcs, e.Sources...)
	}
	c.Sources = mergePrefixes(srcs)
	c.Why, c.Writer = why(b, a, changes, lo, hi)
	return c
}

// why cites the changed rules on the paths, after first, and the writer of
// the first; without one, the last step of the new path and the owner the
// exposure map gives.
func why(b, a []exposure.Exposure, changes []Change, lo, hi int) ([]string, Writer) {
	var out []string
	var w Writer
	cite := func(text string, ch Change) {
		if !slices.Contains(out, text) {
			out = append(out, text)
			w = cmp.Or(w, ch.Writer)
		}
	}
	for _, side := range [][]exposure.Exposure{a, b} {
		for _, e := range side {
			for _, s := range e.Path {
				if !decides(s) {
					continue
				}
				if ch, ok := changedStep(s, changes); ok {
					cite(stepText(s, ch.Kind), ch)
				}
				for _, ch := range changedElements(s, changes, lo, hi) {
					cite(fmt.Sprintf("%s: %s @%s: %s", ch.Kind, ch.Table, ch.Set, ch.TextBefore+ch.TextAfter), ch)
				}
			}
		}
	}
	if len(out) > 0 {
		return out, w
	}
	for _, side := range [][]exposure.Exposure{a, b} {
		for _, e := range side {
			if l := e.Listener; l.Process != "" || l.Port != 0 {
				out = append(out, listenerText(l))
				w = cmp.Or(w, listenerWriter(l))
			}
		}
	}
	for _, e := range a {
		if n := len(e.Path); n > 0 && len(out) == 0 {
			out = append(out, stepText(e.Path[n-1], ""))
		}
		w = cmp.Or(w, ownerWriters[e.Owner.Component])
	}
	return out, cmp.Or(w, WriterAdmin)
}

// listenerText describes the socket that answers (or answered).
func listenerText(l exposure.Listener) string {
	addr := fmt.Sprintf("%s:%d", l.Addr, l.Port)
	if a, err := netip.ParseAddr(l.Addr); err == nil {
		addr = netip.AddrPortFrom(a, uint16(l.Port)).String()
	}
	s := "listener " + l.Proto + " " + addr
	if l.Process != "" {
		s += fmt.Sprintf(" (%s, pid %d)", l.Process, l.PID)
	}
	return s
}

// listenerProcesses are the programs that listen for a component: Docker's
// userland proxy (and dockerd itself with --userland-proxy=false), conmon
// for podman's published ports, and the Kubernetes node daemons.
var listenerProcesses = map[string]Writer{
	"docker-proxy": WriterDocker, "dockerd": WriterDocker, "conmon": WriterNetavark,
	"kubelet": WriterKubelet, "kube-proxy": WriterKubeProxy, "crio": WriterCRIO,
}

// listenerWriter attributes a port that a socket answers on to the
// component whose process holds it; other processes are the host's
// (admin).
func listenerWriter(l exposure.Listener) Writer {
	if w, ok := listenerProcesses[l.Process]; ok {
		return w
	}
	return WriterAdmin
}

// changedElements returns the element changes of the sets a path step
// looks up (kube-proxy's nftables maps: "tcp . 30080 : goto external-…")
// whose key names a port in lo..hi.
func changedElements(s trace.Step, changes []Change, lo, hi int) []Change {
	var out []Change
	for _, c := range changes {
		if c.Set == "" || c.Table != s.Table || !strings.Contains(s.Text, "@"+c.Set) {
			continue
		}
		if (c.Kind == ElementAdded || c.Kind == ElementRemoved) && namesPort(c.TextBefore+c.TextAfter, lo, hi) {
			out = append(out, c)
		}
	}
	return out
}

// namesPort reports whether an element's key holds a number in lo..hi.
func namesPort(text string, lo, hi int) bool {
	key, _, _ := strings.Cut(text, " : ")
	for _, f := range strings.Split(key, " . ") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// decides reports whether a step can decide an inbound packet's fate:
// source NAT in POSTROUTING and OUTPUT's rules do not.
func decides(s trace.Step) bool { return s.Hook != "POSTROUTING" && s.Hook != "OUTPUT" }

// changedStep finds the change of the rule (or policy) a path step took.
func changedStep(s trace.Step, changes []Change) (Change, bool) {
	for _, c := range changes {
		if c.Table != s.Table || c.Chain != s.Chain {
			continue
		}
		switch {
		case s.Policy && c.Kind == PolicyChanged:
			return c, true
		case !s.Policy && s.Text != "" && (ruleTextEq(c.TextAfter, s.Text) || ruleTextEq(c.TextBefore, s.Text)):
			return c, true
		}
	}
	return Change{}, false
}

func ruleTextEq(a, b string) bool { return a != "" && a == cleanText(b) }

func stepText(s trace.Step, kind Kind) string {
	where := fmt.Sprintf("%s %s rule %d", s.Table, s.Chain, s.Rule)
	if s.Policy {
		where = fmt.Sprintf("%s %s policy %s", s.Table, s.Chain, s.Target)
	}
	text := cleanText(s.Text)
	if kind != "" {
		where = string(kind) + ": " + where
	}
	if text == "" {
		return where
	}
	return where + ": " + text
}
