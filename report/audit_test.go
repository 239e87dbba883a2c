package report

import (
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/kube"
)

func svcRow(addr, iface string, sources ...string) exposure.Exposure {
	return exposure.Exposure{Proto: "tcp", Addr: addr, Iface: iface, PortFrom: 30080, PortTo: 30080, State: exposure.Forwarded,
		Sources: sources, To: []exposure.Target{{Addr: "198.51.100.11", Port: 8080, Probability: 0.5}, {Addr: "198.51.100.12", Port: 8080, Probability: 0.5}},
		Owner: exposure.Owner{Component: "kube-proxy", Kind: exposure.KindService, Namespace: "default", Name: "web", Port: "http", Via: exposure.ViaNodePort}}
}

func TestAuditTableGroupsByOwner(t *testing.T) {
	rep := &exposure.Report{Exposures: []exposure.Exposure{
		svcRow("192.0.2.2", "eth0", "0.0.0.0/0"),
		svcRow("203.0.113.253", "eth0", "0.0.0.0/0"),
		{Proto: "tcp", Addr: "192.0.2.2", Iface: "eth0", PortFrom: 9100, PortTo: 9100, State: exposure.Open, Sources: []string{"0.0.0.0/0"},
			Listener: exposure.Listener{Addr: "0.0.0.0", Port: 9100, PID: 42, Process: "node_exporter"},
			Owner:    exposure.Owner{Component: "host", Kind: exposure.KindPod, Namespace: "monitoring", Name: "node-exporter-x", ContainerName: "exporter", Via: exposure.ViaHostNetwork}},
		{Proto: "tcp", Addr: "192.0.2.2", Iface: "eth0", PortFrom: 22, PortTo: 22, State: exposure.Open, Sources: []string{"0.0.0.0/0"},
			Listener: exposure.Listener{Addr: "0.0.0.0", Port: 22, PID: 7, Process: "sshd"}, Owner: exposure.Owner{Component: "host"}},
	}}
	findings := []kube.Finding{{ID: kube.StaleServiceRules, Severity: kube.Medium, Object: kube.ObjectRef{Kind: "Service", Namespace: "default", Name: "old"},
		Message: "rules for a Service that does not exist", Evidence: []string{"nat KUBE-SVC-X"}}}
	var b strings.Builder
	if err := AuditTable(&b, &Audit{Report: rep, Node: "n1", Findings: findings, Joined: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	owned, other, _ := strings.Cut(out, "OTHER PORTS")
	for _, want := range []string{
		"KUBERNETES OBJECTS EXPOSED ON NODE n1",
		"→ 2 endpoints, forwarded from 0.0.0.0/0",
		"on 192.0.2.2 (eth0), 203.0.113.253 (eth0)",
		"pod monitoring/node-exporter-x/exporter",
		"HostNetwork",
		"node_exporter[42] on 0.0.0.0:9100, open from 0.0.0.0/0",
	} {
		if !strings.Contains(owned, want) {
			t.Errorf("got owner section\n%s\nwant it to contain %q", owned, want)
		}
	}
	if n := strings.Count(owned, "default/web:http"); n != 1 {
		t.Errorf("got %d lines for default/web:http, want the two addresses on one line", n)
	}
	if strings.Contains(owned, "sshd") || !strings.Contains(other, "sshd") {
		t.Errorf("got the unowned sshd port outside OTHER PORTS:\n%s", out)
	}
	for _, want := range []string{"FINDINGS (1)", "medium stale-service-rules Service default/old: rules for a Service that does not exist", "evidence: nat KUBE-SVC-X"} {
		if !strings.Contains(other, want) {
			t.Errorf("got\n%s\nwant it to contain %q", other, want)
		}
	}
}

// TestAuditTableNotJoined: without objects the table is the exposure
// table, unchanged.
func TestAuditTableNotJoined(t *testing.T) {
	rep := &exposure.Report{Exposures: []exposure.Exposure{svcRow("192.0.2.2", "eth0", "0.0.0.0/0")}}
	var got, want strings.Builder
	if err := AuditTable(&got, &Audit{Report: rep, Findings: []kube.Finding{}}); err != nil {
		t.Fatal(err)
	}
	if err := exposure.WriteTable(&want, rep); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant exposure.WriteTable's\n%s", got.String(), want.String())
	}
}
