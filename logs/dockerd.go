package logs

import (
	"regexp"
	"strings"
)

// dockerd reads the Docker daemon's port lines. At the default info level
// dockerd logs only failures: "Bind for 0.0.0.0:5000 failed: port is
// already allocated" (libnetwork portallocator) and "listen tcp4
// 0.0.0.0:3306: bind: address already in use" (the userland proxy), both
// inside the API error "driver failed programming external connectivity on
// endpoint <name> (<id>): …", which is what the scanner looks for. With
// --debug it logs every
// iptables call, e.g. "/usr/sbin/iptables, [--wait -t nat -A DOCKER -p tcp
// -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i
// docker0]" (libnetwork/iptables), announced by "Programming external
// connectivity on endpoint <name> (<id>)" and undone after "Revoking
// external connectivity". "Starting up" is the restart marker.
type dockerd struct {
	endpoint string
	// owner remembers which endpoint added each DNAT rule: at shutdown
	// dockerd revokes several endpoints at once and their -D calls
	// interleave, so the last announced endpoint is not always the owner.
	owner map[string]string
}

var (
	dockerBind   = regexp.MustCompile(`Bind for (\S+) failed: port is already allocated`)
	dockerListen = regexp.MustCompile(`listen (tcp|udp|sctp)[46]? (\S+): bind: address already in use`)
	dockerIPT    = regexp.MustCompile(`^/\S*/?(ip6?tables), \[(.*)\]$`)
	dockerEP     = regexp.MustCompile(`^(?:Programming|Revoking) external connectivity on endpoint (\S+) \(`)
	dockerFailEP = regexp.MustCompile(`external connectivity on endpoint (\S+) \(`)
)

// Source implements Recogniser.
func (d *dockerd) Source() Source { return SourceDockerd }

// Needles implements Recogniser.
func (d *dockerd) Needles() []string {
	return []string{"-j DNAT", "Bind for", "Starting up", "external connectivity"}
}

// Flush implements Recogniser.
func (d *dockerd) Flush(func(Event)) {}

// Recognise implements Recogniser.
func (d *dockerd) Recognise(rec *Record, _ *TimeContext, emit func(Event)) error {
	if !unitIs(rec.Unit, "dockerd", "docker", "docker.service") {
		return nil
	}
	l, ok := parseLogrus(rec.Text)
	if !ok {
		return nil
	}
	if m := dockerEP.FindStringSubmatch(l.Msg); m != nil {
		d.endpoint = m[1]
	}
	switch {
	case l.Msg == "Starting up":
		d.endpoint = ""
		emit(eventAt(rec, l.Time, !l.Time.IsZero(), SourceDockerd, ActionRestart))
	case strings.Contains(l.Msg, "-j DNAT"):
		return d.iptables(rec, l, emit)
	case strings.Contains(l.Msg, "Bind for ") || strings.Contains(l.Msg, ": bind: "):
		return d.failure(rec, l, emit)
	}
	return nil
}

// iptables reads one debug-logged iptables call that adds (-A/-I) or
// deletes (-D) a DNAT rule in the DOCKER chain; checks (-C) are ignored.
func (d *dockerd) iptables(rec *Record, l logrusLine, emit func(Event)) error {
	m := dockerIPT.FindStringSubmatch(l.Msg)
	if m == nil {
		return nil
	}
	r := parseRuleArgs(m[2])
	act := map[string]Action{"-A": ActionOpen, "-I": ActionOpen, "-D": ActionClose}[r.Op]
	if act == "" || r.DPort == "" {
		return nil
	}
	port, to, ok := parsePortRange(r.DPort)
	if !ok {
		return lineErr(SourceDockerd, "read --dport %q", r.DPort)
	}
	e := eventAt(rec, l.Time, !l.Time.IsZero(), SourceDockerd, act)
	e.Proto, e.Port, e.PortTo, e.Addr, e.Chain, e.To = r.Proto, port, to, r.Dest, r.Chain, r.ToDest
	e.Pod = d.ownerOf(act, m[1]+" "+r.Proto+" "+r.DPort+" "+r.Dest+" "+r.ToDest)
	e.Family = 4
	if m[1] == "ip6tables" {
		e.Family = 6
	}
	emit(e)
	return nil
}

func (d *dockerd) failure(rec *Record, l logrusLine, emit func(Event)) error {
	proto, hostport := "tcp", ""
	if m := dockerBind.FindStringSubmatch(l.Msg); m != nil {
		hostport = m[1]
	} else if m := dockerListen.FindStringSubmatch(l.Msg); m != nil {
		proto, hostport = m[1], m[2]
	} else {
		return nil
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return lineErr(SourceDockerd, "read address %q", hostport)
	}
	host, p := strings.Trim(hostport[:i], "[]"), hostport[i+1:]
	port, ok := portNumber(p)
	if !ok {
		return lineErr(SourceDockerd, "read address %q", hostport)
	}
	e := eventAt(rec, l.Time, !l.Time.IsZero(), SourceDockerd, ActionFail)
	e.Proto, e.Port, e.Addr, e.Pod = proto, port, host, d.endpoint
	if em := dockerFailEP.FindStringSubmatch(l.Msg); em != nil {
		e.Pod = em[1]
	}
	emit(e)
	return nil
}

// ownerOf returns the endpoint of a rule: the announced one when it is
// added, the one that added it when it is deleted.
func (d *dockerd) ownerOf(act Action, rule string) string {
	if d.owner == nil {
		d.owner = map[string]string{}
	}
	if act == ActionOpen {
		d.owner[rule] = d.endpoint
		return d.endpoint
	}
	if ep, ok := d.owner[rule]; ok {
		delete(d.owner, rule)
		return ep
	}
	return d.endpoint
}
