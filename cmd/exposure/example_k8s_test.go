package main

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/exposure"
)

// TestDemoExampleJoin runs what ./scripts/demo runs — the kube-proxy
// example bundle with its cluster's objects — and checks the owners and
// findings the README promises.
func TestDemoExampleJoin(t *testing.T) {
	code, out, errOut := runCLI(t, "ports", "--snapshot", "../../examples/kube-proxy-node.bundle",
		"--k8s-objects", "../../examples/kube-proxy-node.k8s.json", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Node      string `json:"node"`
		Exposures []exposure.Exposure
		Findings  []struct {
			ID     string `json:"id"`
			Object struct{ Kind, Namespace, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Node != "kp-node" {
		t.Errorf("node %q, want kp-node", got.Node)
	}
	var findings []string
	for _, f := range got.Findings {
		findings = append(findings, f.ID+" "+f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name)
	}
	want := []string{
		"nodeport-on-all-interfaces Node /kp-node",
		"source-ranges-bypassed Service default/svc-lb",
		"undeclared-host-port Pod kube-system/kube-proxy-x7k2p",
		"wildcard-host-bind Pod kube-system/kube-proxy-x7k2p",
		"wildcard-host-bind Pod monitoring/node-exporter-q9w4z",
	}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	owners := map[string]string{}
	for _, e := range got.Exposures {
		if e.Addr == "192.0.2.2" && e.Iface == "eth0" && (e.State == exposure.Open || e.State == exposure.Forwarded) {
			o := e.Owner
			owners[e.Proto+"/"+strconv.Itoa(e.PortFrom)] = string(o.Kind) + " " + o.Namespace + "/" + o.Name + " " + string(o.Via)
		}
	}
	wantOwners := map[string]string{
		"tcp/30080": "Service default/svc-nodeport nodePort",
		"tcp/30081": "Service default/svc-lb nodePort",
		"tcp/30082": "Service default/svc-local nodePort",
		"tcp/8080":  "Pod default/web-hostport-0 hostPort",
		"udp/5353":  "Pod default/web-hostport-0 hostPort",
		"tcp/9100":  "Pod monitoring/node-exporter-q9w4z hostNetwork",
		"tcp/10256": "Pod kube-system/kube-proxy-x7k2p hostNetwork",
		"tcp/22":    " / ",
		"tcp/10250": " / ",
		"icmp/0":    " / ",
	}
	if diff := cmp.Diff(wantOwners, owners); diff != "" {
		t.Errorf("owners of 192.0.2.2 on eth0 (-want +got):\n%s", diff)
	}
}
