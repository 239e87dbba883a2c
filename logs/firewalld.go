package logs

import (
	"bytes"
	"regexp"
	"strconv"
	"time"
)

// firewalld reads firewalld's debug log (/var/log/firewalld with
// FIREWALLD_ARGS=--debug, "%Y-%m-%d %H:%M:%S DEBUGn: msg" in local time).
// Runtime changes come from the D-Bus signals firewalld logs when a change
// is done (`zone.PortAdded('public', '8080', 'tcp', 0)`, PortRemoved,
// ServiceAdded/Removed, ForwardPortAdded/Removed, RichRuleAdded/Removed);
// the calls before them (`zone.addPort(…)`, which may leave the zone empty)
// are held until that signal or an ERROR line (firewalld_calls.go). Permanent
// changes are calls on config.zone.N (`config.zone.6.addPort('8080',
// 'tcp')`), where N is the D-Bus object number of the zone, named by the
// preceding `config.getZoneByName('public')` or the following
// `config.zone.6.Updated('public')`; they take effect only at the next
// reload()/completeReload()/start(). A bare `update('...')` hides what
// changed and becomes a note.
type firewalld struct {
	svc      *Services
	zones    map[string]string // object number → zone name
	lookup   string            // zone of the last getZoneByName
	pending  map[string][]Event
	specific map[string]bool
	call     *fwCallLine // runtime call waiting for its signal or error
}

func newFirewalld(svc *Services) *firewalld {
	return &firewalld{svc: svc, zones: map[string]string{}, pending: map[string][]Event{}, specific: map[string]bool{}}
}

var fwCall = regexp.MustCompile(`^(config\.zone\.(\d+)\.|zone\.|config\.)?(\w+)\((.*)\)$`)

// Source implements Recogniser.
func (f *firewalld) Source() Source { return SourceFirewalld }

// Needles implements Recogniser.
func (f *firewalld) Needles() []string { return []string{"('", "()", "ERROR: "} }

// Recognise implements Recogniser.
func (f *firewalld) Recognise(rec *Record, tc *TimeContext, emit func(Event)) error {
	if !unitIs(rec.Unit, "firewalld", "firewalld.service") {
		return nil
	}
	own, label, msg, ok := firewalldLine(rec.Text, tc)
	if !ok {
		return nil
	}
	if label == "ERROR" {
		return f.callFailed(eventAt(rec, own, false, SourceFirewalld, ActionFail), emit)
	}
	m := fwCall.FindSubmatch(msg)
	if m == nil {
		return nil
	}
	c := fwCallOf(m)
	args, err := pythonArgs(m[4])
	if err != nil {
		if c.interesting() {
			return lineErr(SourceFirewalld, "read arguments of %s: %v", c.method, err)
		}
		return nil
	}
	c.args = args
	c.base = eventAt(rec, own, false, SourceFirewalld, "")
	return f.dispatch(c, emit)
}

// firewalldLine strips "YYYY-MM-DD HH:MM:SS " (when present) and the
// level label ("DEBUGn: ", "ERROR: "); it returns DEBUG or ERROR as label.
func firewalldLine(b []byte, tc *TimeContext) (t time.Time, label string, msg []byte, ok bool) {
	if len(b) > 20 && b[4] == '-' && b[10] == ' ' && b[19] == ' ' {
		if t, ok = tc.local("2006-01-02 15:04:05", b[:19]); !ok {
			return t, "", nil, false
		}
		b = b[20:]
	}
	switch {
	case bytes.HasPrefix(b, []byte("ERROR: ")):
		return t, "ERROR", b[7:], true
	case !bytes.HasPrefix(b, []byte("DEBUG")):
		return t, "", nil, false
	}
	i := bytes.Index(b, []byte(": "))
	if i < 0 {
		return t, "", nil, false
	}
	return t, "DEBUG", b[i+2:], true
}

// fwCallOf names the parts of a matched call line.
type fwCallLine struct {
	config bool   // a config.zone.N call (permanent)
	object string // N
	method string
	args   []string
	base   Event
}

func fwCallOf(m [][]byte) fwCallLine {
	return fwCallLine{config: bytes.HasPrefix(m[1], []byte("config.")), object: string(m[2]), method: string(m[3])}
}

func (c fwCallLine) interesting() bool {
	_, rt := fwRuntime[c.method]
	_, pm := fwPermanent[c.method]
	return rt || pm
}

func (f *firewalld) dispatch(c fwCallLine, emit func(Event)) error {
	switch {
	case c.method == "start" || c.method == "stop":
		f.resetObjects()
		c.base.Action = ActionRestart
		emit(c.base)
	case c.method == "reload" || c.method == "completeReload":
		f.resetObjects()
		c.base.Action = ActionReload
		emit(c.base)
	case c.method == "getZoneByName" && len(c.args) == 1:
		f.lookup = c.args[0]
	case c.object != "":
		return f.permanent(c, emit)
	case !c.config:
		return f.runtime(c, emit)
	}
	return nil
}

func (f *firewalld) resetObjects() {
	clear(f.zones)
	f.lookup = ""
}

// fwRuntime maps the runtime signals to actions.
var fwRuntime = map[string]Action{
	"PortAdded": ActionOpen, "PortRemoved": ActionClose,
	"ServiceAdded": ActionOpen, "ServiceRemoved": ActionClose,
	"ForwardPortAdded": ActionOpen, "ForwardPortRemoved": ActionClose,
	"RichRuleAdded": ActionOpen, "RichRuleRemoved": ActionClose,
}

// fwPermanent maps the permanent config.zone calls to actions.
var fwPermanent = map[string]Action{
	"addPort": ActionOpen, "removePort": ActionClose,
	"addService": ActionOpen, "removeService": ActionClose,
	"addForwardPort": ActionOpen, "removeForwardPort": ActionClose,
	"addRichRule": ActionOpen, "removeRichRule": ActionClose,
}

// runtime reads a runtime signal, or holds a runtime call until its outcome.
func (f *firewalld) runtime(c fwCallLine, emit func(Event)) error {
	if _, ok := fwCalls[c.method]; ok {
		return f.holdCall(c, emit)
	}
	act, ok := fwRuntime[c.method]
	if !ok || len(c.args) < 2 {
		return nil
	}
	f.call = nil // the signal reports the call's success
	c.base.Action, c.base.Zone, c.base.Chain = act, c.args[0], LayerRuntime
	return f.expand(c.base, c.method, c.args[1:], emit)
}

func (f *firewalld) permanent(c fwCallLine, emit func(Event)) error {
	if f.zones[c.object] == "" && f.lookup != "" {
		f.zones[c.object], f.lookup = f.lookup, ""
	}
	switch c.method {
	case "Updated":
		if len(c.args) == 1 {
			f.zones[c.object] = c.args[0]
		}
		f.specific[c.object] = false
		f.flushObject(c.object, emit)
		return nil
	case "update", "update2", "setPorts", "setServices", "setForwardPorts", "setRichRules":
		f.opaque(c, emit)
		return nil
	}
	act, ok := fwPermanent[c.method]
	if !ok || len(c.args) < 1 {
		return nil
	}
	f.specific[c.object] = true
	c.base.Action, c.base.Chain = act, LayerPermanent
	return f.expand(c.base, c.method, c.args, func(e Event) {
		f.pending[c.object] = append(f.pending[c.object], e)
	})
}

// opaque notes a permanent change whose content the log does not show,
// unless a specific call on the same zone just explained it.
func (f *firewalld) opaque(c fwCallLine, emit func(Event)) {
	if f.specific[c.object] {
		f.specific[c.object] = false
		return
	}
	e := c.base
	e.Chain = LayerPermanent
	e.Note = "permanent zone configuration changed without details (" + c.method + "): read the zone's XML under /etc/firewalld/zones"
	f.pending[c.object] = append(f.pending[c.object], e)
}

// flushObject emits the held permanent events of zone object n.
func (f *firewalld) flushObject(n string, emit func(Event)) {
	for _, e := range f.pending[n] {
		e.Zone = f.zones[n]
		emit(e)
	}
	delete(f.pending, n)
}

// Flush implements Recogniser.
func (f *firewalld) Flush(emit func(Event)) {
	_ = f.settleCall(emit)
	for n := range f.pending {
		f.flushObject(n, emit)
	}
}

// pythonArgs reads the repr of the call arguments firewalld logs: single-
// or double-quoted strings and integers, separated by ", ".
func pythonArgs(b []byte) ([]string, error) {
	var out []string
	for len(b) > 0 {
		s, rest, err := pythonValue(b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		b = bytes.TrimPrefix(rest, []byte(","))
		b = bytes.TrimLeft(b, " ")
	}
	return out, nil
}

func pythonValue(b []byte) (string, []byte, error) {
	if b[0] != '\'' && b[0] != '"' {
		end := bytes.IndexByte(b, ',')
		if end < 0 {
			end = len(b)
		}
		return string(bytes.TrimSpace(b[:end])), b[end:], nil
	}
	var out []byte
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			if i+1 < len(b) {
				i++
				out = append(out, b[i])
			}
		case b[0]:
			return string(out), b[i+1:], nil
		default:
			out = append(out, b[i])
		}
	}
	return "", nil, strconv.ErrSyntax
}
