package logs

import (
	"cmp"
	"slices"
	"strings"
)

// PortState is one port the logs say is open now, with the event that last
// touched it.
type PortState struct {
	Source Source `json:"source"`
	Proto  string `json:"proto"`
	Port   int    `json:"port"`
	PortTo int    `json:"port_to,omitempty"`
	Addr   string `json:"addr"`
	Zone   string `json:"zone"`
	Chain  string `json:"chain"`
	To     string `json:"to"`
	Pod    string `json:"pod"`
	Last   Event  `json:"last"`
}

// State is what the logs say is open at the end of the timeline.
type State struct {
	// Ports are open per the logs, by source.
	Ports []PortState `json:"ports"`
	// Pending are permanent firewalld changes made after the last
	// reload: they are in the configuration but not in the rules.
	Pending []PortState `json:"pending"`
}

type portKey struct {
	src         Source
	proto, addr string
	zone, to    string
	port, to2   int
}

func keyOf(e Event) portKey {
	k := portKey{src: e.Source, proto: e.Proto, addr: e.Addr, port: e.Port, to2: e.PortTo}
	switch e.Source {
	case SourceFirewalld:
		k.zone, k.to = e.Zone, e.To
	case SourceOVNKube:
		k.to = e.To
	}
	return k
}

// tracker replays events in time order.
type tracker struct {
	open      map[portKey]Event
	permanent map[portKey]Event // firewalld permanent config seen in the log
	pending   map[portKey]Event // permanent changes not yet reloaded
	snapshot  Evidence          // the CRI-O snapshot being replayed
}

// Replay computes the state at the end of events, which must be sorted.
// The rules follow each component: a CRI-O snapshot replaces CRI-O's ports
// of its family; firewalld's reload and start replace the runtime ports
// with the permanent ones and stop clears them; a dockerd or kube-proxy
// restart clears theirs (both re-create their rules and log them again);
// a CRI-O restart keeps them (its iptables rules survive, cri-o#6141).
func Replay(events []Event) State {
	t := &tracker{open: map[portKey]Event{}, permanent: map[portKey]Event{}, pending: map[portKey]Event{}}
	for _, e := range events {
		t.apply(e)
	}
	return State{Ports: statesOf(t.open), Pending: statesOf(t.pending)}
}

func (t *tracker) apply(e Event) {
	switch {
	case e.Source == SourceFirewalld && e.Chain == LayerPermanent:
		t.permanentChange(e)
	case e.Action == ActionOpen:
		t.open[keyOf(e)] = e
	case e.Action == ActionClose:
		t.close(e)
	case e.Action == ActionSnapshot:
		t.snapshotEntry(e)
	case e.Action == ActionReload || e.Action == ActionRestart:
		t.reset(e)
	}
}

// close removes the port; a CRI-O close carries no address, so it closes
// the port on every address.
func (t *tracker) close(e Event) {
	k := keyOf(e)
	if _, ok := t.open[k]; ok || e.Source != SourceCRIO {
		delete(t.open, k)
		return
	}
	t.drop(func(o Event) bool { return o.Source == SourceCRIO && o.Proto == e.Proto && o.Port == e.Port })
}

func (t *tracker) snapshotEntry(e Event) {
	if t.snapshot != e.Evidence {
		t.snapshot = e.Evidence
		t.drop(func(o Event) bool {
			return o.Source == SourceCRIO && (e.Port == 0 || o.Family == 0 || o.Family == e.Family)
		})
	}
	if e.Port != 0 {
		t.open[keyOf(e)] = e
	}
}

func (t *tracker) permanentChange(e Event) {
	k := keyOf(e)
	if e.Action == ActionOpen {
		t.permanent[k] = e
	} else {
		delete(t.permanent, k)
	}
	t.pending[k] = e
}

func (t *tracker) reset(e Event) {
	switch {
	case e.Source == SourceFirewalld:
		t.drop(func(o Event) bool { return o.Source == SourceFirewalld })
		clear(t.pending)
		if !isStop(e) {
			for k, p := range t.permanent {
				t.open[k] = p
			}
		}
	case e.Source == SourceDockerd || e.Source == SourceKubeProxy:
		t.drop(func(o Event) bool { return o.Source == e.Source })
	}
}

// isStop tells firewalld's stop() (rules flushed, CleanupOnExit) from start().
func isStop(e Event) bool { return strings.Contains(e.Evidence.Text, "stop()") }

func (t *tracker) drop(match func(Event) bool) {
	for k, o := range t.open {
		if match(o) {
			delete(t.open, k)
		}
	}
}

func statesOf(m map[portKey]Event) []PortState {
	out := []PortState{}
	for _, e := range m {
		out = append(out, PortState{Source: e.Source, Proto: e.Proto, Port: e.Port, PortTo: e.PortTo, Addr: e.Addr,
			Zone: e.Zone, Chain: e.Chain, To: e.To, Pod: e.Pod, Last: e})
	}
	slices.SortFunc(out, func(a, b PortState) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto),
			cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.To, b.To))
	})
	return out
}
