package logs

import (
	"fmt"
	"regexp"
	"strings"
)

// expand turns the arguments of one firewalld change into events: a port
// ("8080", "tcp"), a service (resolved to its ports), a forward port
// ("8081", "tcp", "8080", "") or a rich rule.
func (f *firewalld) expand(base Event, method string, args []string, emit func(Event)) error {
	switch {
	case strings.Contains(method, "ForwardPort"):
		return forwardPort(base, args, emit)
	case strings.Contains(method, "Port"):
		return portArgs(base, args, emit)
	case strings.Contains(method, "Service"):
		f.service(base, args[0], emit)
		return nil
	case strings.Contains(method, "RichRule"):
		return f.richRule(base, args[0], emit)
	}
	return nil
}

func portArgs(base Event, args []string, emit func(Event)) error {
	if len(args) < 2 {
		return lineErr(SourceFirewalld, "read port: want port and protocol, got %d arguments", len(args))
	}
	from, to, ok := parsePortRange(args[0])
	if !ok {
		return lineErr(SourceFirewalld, "read port %q", args[0])
	}
	base.Port, base.PortTo, base.Proto = from, to, args[1]
	emit(base)
	return nil
}

// forwardPort reads port, protocol, to-port, to-addr; the event's To is
// "to-addr:to-port" (":8080" for a local redirect).
func forwardPort(base Event, args []string, emit func(Event)) error {
	if len(args) < 4 {
		return lineErr(SourceFirewalld, "read forward port: want 4 arguments, got %d", len(args))
	}
	if err := portArgs(base, args, func(e Event) { base = e }); err != nil {
		return err
	}
	toPort := args[2]
	if toPort == "" {
		toPort = args[0]
	}
	base.To = args[3] + ":" + toPort
	if strings.Contains(args[3], ":") {
		base.To = "[" + args[3] + "]:" + toPort
	}
	emit(base)
	return nil
}

// service resolves a service name to its ports. An unknown service (a
// custom one not loaded) gives one event with port 0 and a note.
func (f *firewalld) service(base Event, name string, emit func(Event)) {
	ports, ok := f.svc.Ports(name)
	if !ok {
		base.Note = fmt.Sprintf("unknown firewalld service %q: pass its XML with --firewalld-services", name)
		emit(base)
		base.Note = ""
		base.To = "service " + name
		emit(base)
		return
	}
	for _, p := range ports {
		e := base
		e.Proto, e.Port, e.PortTo, e.To = p.Proto, p.From, p.To, "service "+name
		emit(e)
	}
}

var (
	richPort    = regexp.MustCompile(`(?:^|\s)port port="?([\d-]+)"? protocol="?(\w+)"?`)
	richForward = regexp.MustCompile(`forward-port port="?([\d-]+)"? protocol="?(\w+)"? to-port="?([\d-]*)"?(?: to-addr="?([^"\s]+)"?)?`)
	richService = regexp.MustCompile(`service name="?([^"\s]+)"?`)
	richDest    = regexp.MustCompile(`destination address="?([^"\s]+)"?`)
)

// richRule reads the parts of a rich rule (firewalld.richlanguage(5)) that
// open a port: port/forward-port/service elements with an accept action or
// a forward-port. Rules that reject or drop, or match no port, give nothing.
func (f *firewalld) richRule(base Event, rule string, emit func(Event)) error {
	if m := richDest.FindStringSubmatch(rule); m != nil {
		base.Addr = m[1]
	}
	if m := richForward.FindStringSubmatch(rule); m != nil {
		return forwardPort(base, []string{m[1], m[2], m[3], m[4]}, emit)
	}
	if !strings.Contains(rule, " accept") {
		return nil
	}
	if m := richPort.FindStringSubmatch(rule); m != nil {
		return portArgs(base, []string{m[1], m[2]}, emit)
	}
	if m := richService.FindStringSubmatch(rule); m != nil {
		f.service(base, m[1], emit)
	}
	return nil
}
