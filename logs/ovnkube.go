package logs

import (
	"bytes"
	"regexp"
	"strings"
	"time"
)

// ovnkube reads OVN-Kubernetes' go-iptables helper lines, klog V(5):
// `Adding rule in table: nat, chain: OVN-KUBE-NODEPORT with args: "-p TCP -m
// addrtype --dst-type LOCAL --dport 32718 -j DNAT --to-destination
// 10.96.178.142:8081" for protocol: 0 ` (go-controller/pkg/node/
// gateway_iptables.go, later pkg/node/iptables/iptables.go; protocol 0 is
// IPv4, 1 IPv6; the trailing space is lost when journald stores the line).
// Only the chains that expose node ports count: OVN-KUBE-NODEPORT,
// OVN-KUBE-EXTERNALIP and OVN-KUBE-ETP; rules without --dport (the jumps)
// are ignored.
type ovnkube struct{}

var ovnRule = regexp.MustCompile(`^(Adding|Deleting) rule in table: (\w+), chain: ([\w-]+) with args: "((?:[^"\\]|\\.)*)" for protocol: ([01]) ?$`)

var ovnChains = map[string]bool{"OVN-KUBE-NODEPORT": true, "OVN-KUBE-EXTERNALIP": true, "OVN-KUBE-ETP": true}

// Source implements Recogniser.
func (o *ovnkube) Source() Source { return SourceOVNKube }

// Needles implements Recogniser.
func (o *ovnkube) Needles() []string { return []string{"OVN-KUBE-"} }

// Flush implements Recogniser.
func (o *ovnkube) Flush(func(Event)) {}

// Recognise implements Recogniser.
func (o *ovnkube) Recognise(rec *Record, tc *TimeContext, emit func(Event)) error {
	text, own, full := rec.Text, time.Time{}, false
	if t, msg, ok := parseKlog(text, tc); ok {
		text, own = msg, t
	}
	if !bytes.Contains(text, []byte(" rule in table: ")) {
		return nil
	}
	m := ovnRule.FindSubmatch(bytes.TrimRight(text, "\r"))
	if m == nil {
		if bytes.HasPrefix(text, []byte("Adding ")) || bytes.HasPrefix(text, []byte("Deleting ")) {
			return lineErr(SourceOVNKube, "read iptables rule line")
		}
		return nil
	}
	if !ovnChains[string(m[3])] {
		return nil
	}
	r := parseRuleArgs(string(m[4]))
	if r.DPort == "" {
		return nil
	}
	return o.emit(rec, own, full, m, r, emit)
}

func (o *ovnkube) emit(rec *Record, own time.Time, full bool, m [][]byte, r ruleArgs, emit func(Event)) error {
	from, to, ok := parsePortRange(r.DPort)
	if !ok {
		return lineErr(SourceOVNKube, "read --dport %q", r.DPort)
	}
	act := ActionOpen
	if string(m[1]) == "Deleting" {
		act = ActionClose
	}
	e := eventAt(rec, own, full, SourceOVNKube, act)
	e.Proto, e.Port, e.PortTo, e.Addr, e.Chain = r.Proto, from, to, r.Dest, string(m[3])
	e.To = strings.TrimSpace(r.ToDest)
	e.Family = 4
	if string(m[5]) == "1" {
		e.Family = 6
	}
	emit(e)
	return nil
}
