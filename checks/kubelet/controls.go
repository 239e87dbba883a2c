package kubelet

import (
	"fmt"
	"net/netip"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
)

// Target is what the kubelet controls are decided on.
type Target struct {
	// Config is the kubelet's layered configuration.
	Config Config
	// Err, when set, is why Config could not be built; every control then
	// reports ERROR with it.
	Err error
	// Platform picks the remediation wording.
	Platform Platform
	// Version decides the makeIPTablesUtilChains severity and message.
	Version Version
	// Benchmark gives the control IDs and which are Manual.
	Benchmark Benchmark
	// FS is the node's filesystem, used to check that referenced files exist
	// (skipped for configz, which may be read from off the node).
	FS hostfs.FS
}

// control is one kubelet check: its key, title, field, default severity,
// the value it expects (as evidence text, and as the value a remediation
// sets) and its decision.
type control struct {
	key, title     string
	field          Field
	severity       checks.Severity
	expected, want string
	decide         func(t Target, s Setting) (checks.Status, string)
}

var controls = []control{
	{CtlAnonymousAuth, "Ensure that the --anonymous-auth argument is set to false", AnonymousAuth, checks.High, "false", "false", decideAnonymous},
	{CtlAuthorizationMode, "Ensure that the --authorization-mode argument is not set to AlwaysAllow", AuthorizationMode, checks.High, "not AlwaysAllow", "Webhook", decideAuthz},
	{CtlClientCAFile, "Ensure that the --client-ca-file argument is set as appropriate", ClientCAFile, checks.Medium, "a CA bundle path", "/path/to/ca.crt", decideClientCA},
	{CtlReadOnlyPort, "Verify that the --read-only-port argument is set to 0", ReadOnlyPort, checks.High, "0", "0", decideReadOnly},
	{CtlMakeIPTables, "Ensure that the --make-iptables-util-chains argument is set to true", MakeIPTablesUtilChains, checks.Medium, "true", "true", decideMakeIPTables},
}

// Evaluate runs every kubelet control and the bind-address check.
func Evaluate(t Target) []checks.Result {
	out := make([]checks.Result, 0, len(controls)+1)
	for _, c := range controls {
		out = append(out, t.run(c))
	}
	return append(out, t.bind())
}

// run decides one control, or reports ERROR when its setting is unknowable.
func (t Target) run(c control) checks.Result {
	r := checks.Result{ID: t.id(c.key), Benchmark: t.Benchmark.Name, Group: "kubelet", Title: c.title,
		Severity: c.severity, Scored: !t.Benchmark.Manual[c.key], Evidence: checks.Evidence{Expected: c.expected}}
	if t.Err != nil {
		r.Status, r.Message = checks.Error, t.Err.Error()
		return r
	}
	s, err := t.Config.Get(c.field)
	r.Evidence = checks.Evidence{Layer: s.Layer, Path: s.Path, Actual: s.Value, Expected: c.expected}
	if err != nil {
		r.Status, r.Message = checks.Error, err.Error()
		return r
	}
	r.Status, r.Message = c.decide(t, s)
	if c.key == CtlMakeIPTables {
		r.Severity = makeIPTablesSeverity(t.Version)
	}
	if r.Status != checks.Pass {
		r.Remediation = t.remediate(s, c.want)
	}
	return r
}

// id returns the benchmark's number for a control, or a stable slug when the
// benchmark has none.
func (t Target) id(key string) string {
	if id, ok := t.Benchmark.IDs[key]; ok {
		return id
	}
	return "kubelet-" + key
}

func decideAnonymous(_ Target, s Setting) (checks.Status, string) {
	if s.Value == "false" {
		return checks.Pass, "anonymous requests to the kubelet API are rejected"
	}
	return checks.Fail, "anonymous requests to the kubelet API (port 10250) are accepted as system:anonymous"
}

func decideAuthz(_ Target, s Setting) (checks.Status, string) {
	if s.Value != "AlwaysAllow" {
		return checks.Pass, "kubelet API requests are authorized by " + s.Value
	}
	return checks.Fail, "every authenticated kubelet API request is allowed, including exec and logs"
}

func decideClientCA(t Target, s Setting) (checks.Status, string) {
	if s.Value == "" {
		return checks.Fail, "no client CA: client certificates are not accepted for kubelet API authentication"
	}
	if s.Layer != checks.LayerConfigz && !t.FS.Exists(s.Value) {
		return checks.Warn, fmt.Sprintf("client CA %s does not exist on the node; the kubelet will not restart", s.Value)
	}
	return checks.Pass, "client certificates are verified against " + s.Value
}

func decideReadOnly(t Target, s Setting) (checks.Status, string) {
	if s.Value == "0" {
		return checks.Pass, "the unauthenticated read-only port is disabled"
	}
	addr, _ := t.Config.Get(Address)
	return checks.Fail, fmt.Sprintf("the kubelet serves /pods, /stats and /spec without authentication on %s", hostPort(addr.Value, s.Value))
}

func decideMakeIPTables(t Target, s Setting) (checks.Status, string) {
	if s.Value == "true" {
		return checks.Pass, "the kubelet maintains its iptables utility chains"
	}
	return checks.Fail, makeIPTablesLoss(t.Version)
}

// makeIPTablesSeverity is low from kubelet 1.28, when KEP-3178
// (IPTablesOwnershipCleanup) went GA and the setting stopped governing the
// chains kube-proxy relies on.
func makeIPTablesSeverity(v Version) checks.Severity {
	if v.AtLeast(1, 28) {
		return checks.Low
	}
	return checks.Medium
}

// makeIPTablesLoss says what the node loses with makeIPTablesUtilChains off,
// by kubelet version (KEP-3178; k/k #114472, #119374, #90259).
func makeIPTablesLoss(v Version) string {
	const modern = "only KUBE-IPTABLES-HINT (mangle), KUBE-FIREWALL's rule dropping non-local traffic to 127.0.0.0/8 " +
		"(kube-proxy in iptables mode installs its own copy) and the KUBE-KUBELET-CANARY chains that detect a flush are lost"
	switch {
	case v.AtLeast(1, 28):
		return "kubelet " + v.Raw + ": " + modern
	case v.AtLeast(1, 27):
		return "kubelet " + v.Raw + ": with IPTablesOwnershipCleanup on (beta default) " + modern +
			"; with it off, KUBE-MARK-DROP, KUBE-MARK-MASQ and KUBE-POSTROUTING are not maintained either"
	case v.Known():
		return "kubelet " + v.Raw + ": KUBE-MARK-DROP, KUBE-MARK-MASQ, KUBE-POSTROUTING and KUBE-FIREWALL are not maintained; " +
			"masquerading and drop marks depend on another component creating them"
	}
	return "kubelet version unknown (pass --kubelet-version): before 1.28 the kubelet's KUBE-MARK-* and KUBE-POSTROUTING chains are lost; from 1.28 " + modern
}

// bind reports where the kubelet API listens; it fails only when that
// listener accepts anyone (anonymous auth with AlwaysAllow) off loopback.
func (t Target) bind() checks.Result {
	r := checks.Result{ID: "kubelet-bind", Group: "kubelet", Title: "Kubelet API bind address and port",
		Severity: checks.Note, Evidence: checks.Evidence{Expected: "a node address, with authentication"}}
	if t.Err != nil {
		r.Status, r.Message = checks.Error, t.Err.Error()
		return r
	}
	addr, err1 := t.Config.Get(Address)
	port, err2 := t.Config.Get(Port)
	r.Evidence.Layer, r.Evidence.Path = addr.Layer, addr.Path
	r.Evidence.Actual = hostPort(addr.Value, port.Value)
	if err := firstErr(err1, err2); err != nil {
		r.Status, r.Message = checks.Error, err.Error()
		return r
	}
	anon, _ := t.Config.Get(AnonymousAuth)
	authz, _ := t.Config.Get(AuthorizationMode)
	open := anon.Value == "true" && authz.Value == "AlwaysAllow"
	switch {
	case open && !isLoopback(addr.Value):
		r.Status, r.Severity = checks.Fail, checks.Critical
		r.Message = "the kubelet API on " + r.Evidence.Actual + " runs commands in any pod for anyone who can reach it"
		r.Remediation = "Set authentication.anonymous.enabled: false and authorization.mode: Webhook (see the anonymous-auth and authorization-mode results)."
	case isLoopback(addr.Value):
		r.Status, r.Message = checks.Pass, "the kubelet API listens on loopback only ("+r.Evidence.Actual+")"
	case isUnspecified(addr.Value):
		r.Status, r.Message = checks.Info, "the kubelet API listens on every address ("+r.Evidence.Actual+"); exposure is decided by the firewall"
	default:
		r.Status, r.Message = checks.Info, "the kubelet API listens on "+r.Evidence.Actual
	}
	return r
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func hostPort(addr, port string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() {
		return "[" + addr + "]:" + port
	}
	return addr + ":" + port
}

func isLoopback(addr string) bool {
	a, err := netip.ParseAddr(addr)
	return err == nil && a.IsLoopback()
}

func isUnspecified(addr string) bool {
	a, err := netip.ParseAddr(addr)
	return addr == "" || err == nil && a.IsUnspecified()
}
