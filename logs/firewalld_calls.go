package logs

// fwCalls maps the runtime D-Bus calls (`zone.addPort('public', '8080',
// 'tcp')`) to the action they ask for. firewalld logs the call first and,
// once done, the signal (`zone.PortAdded(…)`); a call that fails is
// followed by an ERROR line (`ERROR: ALREADY_ENABLED: '8080:tcp' already
// in 'public'`) and no signal.
var fwCalls = map[string]Action{
	"addPort": ActionOpen, "removePort": ActionClose,
	"addService": ActionOpen, "removeService": ActionClose,
	"addForwardPort": ActionOpen, "removeForwardPort": ActionClose,
	"addRichRule": ActionOpen, "removeRichRule": ActionClose,
}

// holdCall keeps a runtime call until its outcome; a call still held when
// the next one comes got no signal (a firewalld that logs none) and is
// taken as done.
func (f *firewalld) holdCall(c fwCallLine, emit func(Event)) error {
	err := f.settleCall(emit)
	if len(c.args) < 2 {
		return err
	}
	c.base.Action, c.base.Zone, c.base.Chain = fwCalls[c.method], c.args[0], LayerRuntime
	f.call = &c
	return err
}

// settleCall emits a held call as done.
func (f *firewalld) settleCall(emit func(Event)) error {
	c := f.call
	if c == nil {
		return nil
	}
	f.call = nil
	return f.expand(c.base, c.method, c.args[1:], emit)
}

// callFailed turns the held call into fail events at the ERROR line.
func (f *firewalld) callFailed(at Event, emit func(Event)) error {
	c := f.call
	if c == nil {
		return nil
	}
	f.call = nil
	base := c.base
	base.Action, base.Time, base.Evidence = ActionFail, at.Time, at.Evidence
	return f.expand(base, c.method, c.args[1:], emit)
}
