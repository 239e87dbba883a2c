package logs

import (
	"bytes"
	"regexp"
	"strings"
	"time"
)

// crio reads CRI-O's log (crio.service). Port lines come from
// internal/hostport: "Opened local port tcp:443" (hostport.go
// openLocalPort), "Closing host port tcp:443" and "Host port tcp:443 does
// not have an open socket" (hostport_manager.go closeHostports), logrus at
// info, CRI-O 1.22–1.30 only; "Restoring iptables rules: …" (syncIPTables,
// 1.22 to today, iptables backend) holds the whole hostport ruleset of one
// IP family. Pod context comes from "Running pod sandbox: ns/name/POD"
// (server/sandbox_run_linux.go). systemd's Started/Stopping lines for the
// unit are restart markers: CRI-O does not reopen hostport sockets after a
// restart (cri-o#6141).
type crio struct {
	pods  []string          // sandboxes being run, most recent last
	owner map[string]string // "tcp:443" → pod that opened it
}

// Source implements Recogniser.
func (c *crio) Source() Source { return SourceCRIO }

// Needles implements Recogniser.
func (c *crio) Needles() []string {
	return []string{"Opened local port", "Closing host port", "Host port", "KUBE-HOSTPORTS", "pod sandbox", "isIPv6 - ", "UDP conntrack", "CRI-O", "cannot open hostport"}
}

// Flush implements Recogniser.
func (c *crio) Flush(func(Event)) {}

// Recognise implements Recogniser.
func (c *crio) Recognise(rec *Record, tc *TimeContext, emit func(Event)) error {
	if bytes.Contains(rec.Text, []byte("cannot open hostport ")) {
		return c.bindFailure(rec, tc, emit)
	}
	if !unitIs(rec.Unit, "crio", "crio.service", "systemd") {
		return nil
	}
	if rec.Unit == "systemd" || bytes.HasPrefix(rec.Text, []byte("Start")) || bytes.HasPrefix(rec.Text, []byte("Stopping ")) {
		return c.systemd(rec, emit)
	}
	l, ok := parseLogrus(rec.Text)
	if !ok {
		if bytes.Contains(rec.Text, []byte("Restoring iptables rules: ")) {
			return lineErr(SourceCRIO, "read hostport ruleset: line cut short (journald splits lines longer than LineMax, 48 KiB)")
		}
		return nil
	}
	return c.message(rec, l, emit)
}

// systemd reads "Started crio.service - Container Runtime Interface for OCI
// (CRI-O)." (systemd ≥252 prints the unit name) or "Started Container
// Runtime Interface for OCI (CRI-O)." and the Stopping twin.
func (c *crio) systemd(rec *Record, emit func(Event)) error {
	t := rec.Text
	if !bytes.Contains(t, []byte("(CRI-O)")) && !bytes.Contains(t, []byte("crio.service")) {
		return nil
	}
	if bytes.HasPrefix(t, []byte("Started ")) || bytes.HasPrefix(t, []byte("Stopping ")) {
		c.pods = nil
		emit(eventAt(rec, rec.Time, true, SourceCRIO, ActionRestart))
	}
	return nil
}

func (c *crio) message(rec *Record, l logrusLine, emit func(Event)) error {
	m := l.Msg
	switch {
	case strings.HasPrefix(m, "Opened local port "):
		return c.port(rec, l, ActionOpen, strings.TrimPrefix(m, "Opened local port "), emit)
	case strings.HasPrefix(m, "Closing host port "):
		return c.port(rec, l, ActionClose, strings.TrimPrefix(m, "Closing host port "), emit)
	case strings.HasPrefix(m, "Host port ") && strings.HasSuffix(m, " does not have an open socket"):
		p := strings.TrimSuffix(strings.TrimPrefix(m, "Host port "), " does not have an open socket")
		return c.port(rec, l, ActionClose, p, emit)
	case strings.HasPrefix(m, "Restoring iptables rules: "):
		return c.restore(rec, l, strings.TrimPrefix(m, "Restoring iptables rules: "), emit)
	case strings.Contains(m, "conntrack entries"):
		return c.conntrack(rec, l, m, emit)
	case m == "HostPort Mapping is Disabled in CRI-O":
		e := eventAt(rec, l.Time, !l.Time.IsZero(), SourceCRIO, "")
		e.Note = "hostport mapping disabled (disable_hostport_mapping): CRI-O forwards no host ports"
		emit(e)
	case strings.HasPrefix(m, "Starting CRI-O, version: "):
		c.pods = nil
		emit(eventAt(rec, l.Time, !l.Time.IsZero(), SourceCRIO, ActionRestart))
	default:
		c.sandbox(m)
	}
	return nil
}

// port reads "tcp:443": lowercase protocol and port, no host IP
// (hostport.go: fmt.Sprintf("%s:%d", protocol, port)).
func (c *crio) port(rec *Record, l logrusLine, act Action, s string, emit func(Event)) error {
	proto, p, ok := strings.Cut(s, ":")
	port, okp := portNumber(p)
	if !ok || !okp || proto == "" {
		return lineErr(SourceCRIO, "read host port %q: want proto:port", s)
	}
	e := eventAt(rec, l.Time, !l.Time.IsZero(), SourceCRIO, act)
	e.Proto, e.Port, e.Pod = proto, port, c.portOwner(act, s)
	emit(e)
	return nil
}

// portOwner names the pod of a port line: the sandbox being run for an
// open; for a close, the pod that opened the port (closes come from
// StopPodSandbox, while other sandboxes may be starting).
func (c *crio) portOwner(act Action, port string) string {
	if c.owner == nil {
		c.owner = map[string]string{}
	}
	if act == ActionOpen {
		c.owner[port] = c.pod()
		return c.pod()
	}
	return c.owner[port]
}

// sandbox follows "Running pod sandbox: ns/name/POD" and "Ran pod sandbox
// <id> with infra container: ns/name/POD" (oci.LabelsToDescription).
func (c *crio) sandbox(m string) {
	if d, ok := strings.CutPrefix(m, "Running pod sandbox: "); ok {
		c.pods = append(c.pods, podOfDescription(d))
		return
	}
	if _, d, ok := strings.Cut(m, " with infra container: "); ok && strings.HasPrefix(m, "Ran pod sandbox ") {
		p := podOfDescription(d)
		for i := len(c.pods) - 1; i >= 0; i-- {
			if c.pods[i] == p {
				c.pods = append(c.pods[:i], c.pods[i+1:]...)
				break
			}
		}
	}
}

func (c *crio) pod() string {
	if len(c.pods) == 0 {
		return ""
	}
	return c.pods[len(c.pods)-1]
}

// podOfDescription turns "ns/name/POD" into "ns/name".
func podOfDescription(d string) string {
	d = strings.TrimSuffix(d, "/POD")
	return strings.TrimSuffix(d, "/")
}

// conntrack reads the UDP conntrack line CRI-O writes on every hostport
// Add: "Starting to delete udp conntrack entries: [5353 53], isIPv6 -
// false" (1.22–1.32) or "Deleting UDP conntrack entries for IPv4: [5353]"
// (1.33+). Each port is a UDP host port being opened.
func (c *crio) conntrack(rec *Record, l logrusLine, m string, emit func(Event)) error {
	lb, rb := strings.IndexByte(m, '['), strings.IndexByte(m, ']')
	if lb < 0 || rb < lb {
		return lineErr(SourceCRIO, "read conntrack ports in %q", m)
	}
	fam := 4
	if strings.Contains(m, "isIPv6 - true") || strings.Contains(m, "IPv6") {
		fam = 6
	}
	for _, f := range strings.Fields(m[lb+1 : rb]) {
		port, ok := portNumber(f)
		if !ok {
			return lineErr(SourceCRIO, "read conntrack port %q", f)
		}
		e := eventAt(rec, l.Time, !l.Time.IsZero(), SourceCRIO, ActionOpen)
		e.Proto, e.Port, e.Pod, e.Family = "udp", port, c.pod(), fam
		emit(e)
	}
	return nil
}

var crioBind = regexp.MustCompile(`cannot open hostport (\d+) for pod (\S+?): listen (tcp|udp|sctp)[46]? ([^\s:]*|\[[^\]]*\]):\d+: bind`)

// bindFailure reads the hostport bind failure CRI-O returns to the kubelet
// (cri-o#2342): "failed to add hostport mapping for sandbox …: cannot open
// hostport 80 for pod <full name>: listen tcp4 :80: bind: address already
// in use", found in CRI-O's or the kubelet's log.
func (c *crio) bindFailure(rec *Record, tc *TimeContext, emit func(Event)) error {
	if !unitIs(rec.Unit, "crio", "crio.service", "kubelet", "kubelet.service", "microshift", "microshift.service") {
		return nil
	}
	m := crioBind.FindSubmatch(rec.Text)
	if m == nil {
		return lineErr(SourceCRIO, "read hostport bind failure")
	}
	own, full := ownTime(rec, tc)
	e := eventAt(rec, own, full, SourceCRIO, ActionFail)
	e.Port, _ = portNumber(string(m[1]))
	e.Pod, e.Proto, e.Addr = podOfComment(string(m[2])), string(m[3]), strings.Trim(string(m[4]), "[]")
	emit(e)
	return nil
}

// ownTime reads the time of a logrus or klog line; full tells whether it
// has a date and zone.
func ownTime(rec *Record, tc *TimeContext) (time.Time, bool) {
	if l, ok := parseLogrus(rec.Text); ok && !l.Time.IsZero() {
		return l.Time, true
	}
	if t, _, ok := parseKlog(rec.Text, tc); ok {
		return t, false
	}
	return time.Time{}, false
}
