package logs

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"time"
)

// kubeProxy reads kube-proxy's port lines: `Opened local port "nodePort for
// ns/svc:port" (:30080/tcp)` and `can't open "nodePort for ns/svc:port"
// (:30080/tcp), skipping this nodePort: …` (V(2), pkg/proxy/iptables and
// ipvs proxier, removed in 1.24 by kubernetes#108496; the InfoS form quotes
// the LocalPort again, the ipvs form prints the struct), the healthcheck
// servers of externalTrafficPolicy=Local Services (`"Opening healthcheck"
// service="ns/svc" port=30090`, pkg/proxy/healthcheck/service_health.go,
// and "Closing healthcheck") and `"Version info"` as the restart marker.
type kubeProxy struct{}

var (
	kpLocalPort = regexp.MustCompile(`nodePort for ([^"\\]+)\\?" \(([^)]*)/(\w+)\)`)
	kpStruct    = regexp.MustCompile(`Description:nodePort for (\S+) IP:(\S*) (?:IPFamily:\S* )?Port:(\d+) Protocol:(\w+)`)
	kpHealth    = regexp.MustCompile(`(Opening|Closing) healthcheck"? (?:service=)?"?([^" ]+)"?(?: on)? port[= ](\d+)`)
)

// Source implements Recogniser.
func (k *kubeProxy) Source() Source { return SourceKubeProxy }

// Needles implements Recogniser.
func (k *kubeProxy) Needles() []string {
	return []string{"Opened local port", "nodePort", "Opening healthcheck", "Closing healthcheck", "Version info"}
}

// Flush implements Recogniser.
func (k *kubeProxy) Flush(func(Event)) {}

// Recognise implements Recogniser.
func (k *kubeProxy) Recognise(rec *Record, tc *TimeContext, emit func(Event)) error {
	if !unitIs(rec.Unit, "kube-proxy", "kube-proxy.service") {
		return nil
	}
	t, msg, ok := parseKlog(rec.Text, tc)
	if !ok {
		return nil
	}
	switch {
	case bytes.Contains(msg, []byte("nodePort for ")):
		return k.localPort(rec, t, msg, emit)
	case bytes.Contains(msg, []byte(" healthcheck")):
		return k.health(rec, t, msg, emit)
	case bytes.HasPrefix(msg, []byte(`"Version info"`)):
		emit(eventAt(rec, t, false, SourceKubeProxy, ActionRestart))
	}
	return nil
}

func (k *kubeProxy) localPort(rec *Record, t time.Time, msg []byte, emit func(Event)) error {
	act := ActionOpen
	if bytes.Contains(msg, []byte("can't open")) {
		act = ActionFail
	} else if !bytes.Contains(msg, []byte("Opened local port")) {
		return nil
	}
	e := eventAt(rec, t, false, SourceKubeProxy, act)
	if m := kpStruct.FindSubmatch(msg); m != nil {
		e.Pod, e.Addr, e.Proto = string(m[1]), string(m[2]), strings.ToLower(string(m[4]))
		e.Port, _ = portNumber(string(m[3]))
		emit(e)
		return nil
	}
	m := kpLocalPort.FindSubmatch(msg)
	if m == nil {
		return lineErr(SourceKubeProxy, "read local port")
	}
	host, port, err := net.SplitHostPort(string(m[2]))
	p, ok := portNumber(port)
	if err != nil || !ok {
		return lineErr(SourceKubeProxy, "read local port address %q", m[2])
	}
	e.Pod, e.Addr, e.Port = string(m[1]), host, p
	e.Proto = strings.TrimRight(string(m[3]), "46")
	emit(e)
	return nil
}

func (k *kubeProxy) health(rec *Record, t time.Time, msg []byte, emit func(Event)) error {
	m := kpHealth.FindSubmatch(msg)
	if m == nil {
		return nil
	}
	act := ActionOpen
	if string(m[1]) == "Closing" {
		act = ActionClose
	}
	p, ok := portNumber(string(m[3]))
	if !ok {
		return lineErr(SourceKubeProxy, "read healthcheck port %q", m[3])
	}
	e := eventAt(rec, t, false, SourceKubeProxy, act)
	e.Proto, e.Port, e.Pod = "tcp", p, string(m[2])
	emit(e)
	return nil
}
