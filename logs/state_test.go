package logs

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ev(sec int, src Source, act Action, proto string, port int, mods ...func(*Event)) Event {
	e := Event{Time: time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC), Source: src, Action: act, Proto: proto, Port: port,
		Evidence: Evidence{File: "f", Line: sec}}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func zone(z, layer string) func(*Event) { return func(e *Event) { e.Zone, e.Chain = z, layer } }
func to(s string, fam int) func(*Event) { return func(e *Event) { e.To, e.Family = s, fam } }
func line(n int) func(*Event)           { return func(e *Event) { e.Evidence.Line = n } }
func text(s string) func(*Event)        { return func(e *Event) { e.Evidence.Text = s } }

type portID struct {
	Source Source
	Proto  string
	Port   int
	Zone   string
}

func ids(ps []PortState) []portID {
	out := []portID{}
	for _, p := range ps {
		out = append(out, portID{p.Source, p.Proto, p.Port, p.Zone})
	}
	return out
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name        string
		events      []Event
		open        []portID
		pendingOpen []portID
	}{
		{"open then close", []Event{ev(1, SourceCRIO, ActionOpen, "tcp", 80), ev(2, SourceCRIO, ActionClose, "tcp", 80)},
			[]portID{}, []portID{}},
		{"crio close without address closes every address", []Event{
			ev(1, SourceCRIO, ActionSnapshot, "tcp", 80, to("10.0.0.1:80", 4)),
			ev(2, SourceCRIO, ActionClose, "tcp", 80)}, []portID{}, []portID{}},
		{"a snapshot replaces its family", []Event{
			ev(1, SourceCRIO, ActionSnapshot, "tcp", 80, to("10.0.0.1:80", 4)),
			ev(1, SourceCRIO, ActionSnapshot, "tcp", 443, to("[fd00::1]:443", 6), line(2)),
			ev(3, SourceCRIO, ActionSnapshot, "udp", 53, to("10.0.0.2:53", 4))},
			[]portID{{SourceCRIO, "udp", 53, ""}, {SourceCRIO, "tcp", 443, ""}}, []portID{}},
		{"an empty snapshot clears", []Event{
			ev(1, SourceCRIO, ActionOpen, "tcp", 80), ev(2, SourceCRIO, ActionSnapshot, "", 0)}, []portID{}, []portID{}},
		{"firewalld permanent waits for reload", []Event{
			ev(1, SourceFirewalld, ActionOpen, "tcp", 8080, zone("public", LayerPermanent))},
			[]portID{}, []portID{{SourceFirewalld, "tcp", 8080, "public"}}},
		{"firewalld reload applies permanent, drops runtime", []Event{
			ev(1, SourceFirewalld, ActionOpen, "tcp", 8080, zone("public", LayerPermanent)),
			ev(2, SourceFirewalld, ActionOpen, "tcp", 9090, zone("public", LayerRuntime)),
			ev(3, SourceFirewalld, ActionReload, "", 0)},
			[]portID{{SourceFirewalld, "tcp", 8080, "public"}}, []portID{}},
		{"firewalld stop clears", []Event{
			ev(1, SourceFirewalld, ActionOpen, "tcp", 8080, zone("public", LayerPermanent)),
			ev(2, SourceFirewalld, ActionReload, "", 0),
			ev(3, SourceFirewalld, ActionRestart, "", 0, text("2026-01-01 00:00:03 DEBUG1: stop()"))},
			[]portID{}, []portID{}},
		{"dockerd restart clears dockerd only", []Event{
			ev(1, SourceDockerd, ActionOpen, "tcp", 8080), ev(1, SourceOVNKube, ActionOpen, "tcp", 30000),
			ev(2, SourceDockerd, ActionRestart, "", 0)},
			[]portID{{SourceOVNKube, "tcp", 30000, ""}}, []portID{}},
		{"crio restart keeps hostports (rules survive)", []Event{
			ev(1, SourceCRIO, ActionOpen, "tcp", 80), ev(2, SourceCRIO, ActionRestart, "", 0)},
			[]portID{{SourceCRIO, "tcp", 80, ""}}, []portID{}},
		{"fail opens nothing", []Event{ev(1, SourceKubeProxy, ActionFail, "tcp", 30080)}, []portID{}, []portID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Replay(tt.events)
			if diff := cmp.Diff(tt.open, ids(st.Ports)); diff != "" {
				t.Errorf("open (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.pendingOpen, ids(st.Pending)); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
		})
	}
}
