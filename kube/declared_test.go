package kube

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// declText summarises a declaration as "node proto addr:port via ns/name port endpoints ranges".
func declText(d Declaration) string {
	return strings.Join([]string{d.Node, d.Proto, d.Addr + ":" + itoa(d.PortFrom), string(d.Via),
		d.Object.Namespace + "/" + d.Object.Name, d.Port + d.Container, itoa(d.Endpoints), strings.Join(d.SourceRanges, ",")}, " ")
}

func TestDeclaredCorpus(t *testing.T) {
	inv := corpusInventory(t)
	inv.Pods = append(inv.Pods, webPod(allWebPorts()...), exporter(),
		pod("default", "done", "uid-d", "kp-node", "198.51.100.30", false, container("c", tcpPort(80, 8081))))
	inv.Pods[len(inv.Pods)-1].Status.Phase = corev1.PodSucceeded
	var got []string
	for _, d := range Declared(inv, "kp-node") {
		got = append(got, declText(d))
	}
	want := []string{
		"kp-node tcp *:8080 hostPort default/web web 1 ",
		"kp-node tcp *:9100 hostNetwork monitoring/node-exporter exporter 1 ",
		"kp-node tcp *:30080 nodePort default/svc-nodeport http 2 ",
		"kp-node tcp *:30081 nodePort default/svc-lb http 1 198.18.0.0/15",
		"kp-node tcp *:30082 nodePort default/svc-local http 1 ",
		"kp-node tcp *:30090 healthCheckNodePort default/svc-local  1 ",
		"kp-node tcp 127.0.0.1:9090 hostPort default/web web 1 ",
		"kp-node tcp 192.0.2.3:80 externalIP default/svc-extip http 2 ",
		"kp-node tcp 203.0.113.50:80 loadBalancer default/svc-lb http 1 198.18.0.0/15",
		"kp-node tcp 203.0.113.51:80 loadBalancer default/svc-local http 1 ",
		"kp-node udp *:5353 hostPort default/web web 1 ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("declared on kp-node (-want +got):\n%s", diff)
	}
	// On another node, a Local Service's own endpoints are those of that node.
	for _, d := range Declared(inv, "kp-other") {
		if d.Object.Name == "svc-local" && d.Via == "nodePort" && d.Endpoints != 1 {
			t.Errorf("got %d endpoints of svc-local on kp-other, want 1 (198.51.100.12 runs there)", d.Endpoints)
		}
		if d.Object.Kind == "Pod" {
			t.Errorf("got pod declaration %+v on kp-other, want none", d)
		}
	}
	if all := Declared(inv, ""); len(all) != len(want) {
		t.Errorf("got %d declarations for every node (one Node object), want %d", len(all), len(want))
	}
}

func TestNodeFor(t *testing.T) {
	inv := corpusInventory(t)
	tests := []struct {
		name    string
		local   []string
		want    string
		wantErr string
	}{
		{"node IP is local", []string{"127.0.0.1", "192.0.2.2"}, "kp-node", ""},
		{"no local address matches", []string{"10.1.1.1"}, "", "no Node among 1 has a local address (10.1.1.1); name it with --node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var local []netip.Addr
			for _, a := range tc.local {
				local = append(local, netip.MustParseAddr(a))
			}
			got, err := NodeFor(inv, local)
			if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %q, %v; want %q, error containing %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
	two := corpusInventory(t)
	two.Add(&Inventory{Nodes: []corev1.Node{{}}})
	two.Nodes[1].Name = "kp-twin"
	two.Nodes[1].Status.Addresses = two.Nodes[0].Status.Addresses
	if _, err := NodeFor(two, []netip.Addr{netip.MustParseAddr("192.0.2.2")}); err == nil || !strings.Contains(err.Error(), "kp-node, kp-twin") {
		t.Errorf("got %v, want an error naming both nodes", err)
	}
}

func TestReconcileNeedsInventory(t *testing.T) {
	if _, err := Reconcile(Input{Node: "n"}); err == nil {
		t.Error("got no error without an inventory, want one")
	}
	res, err := Reconcile(Input{Inventory: &Inventory{}, Node: "n"})
	if err != nil || res.Findings == nil || len(res.Findings) != 0 {
		t.Errorf("got %+v, %v; want no findings as an empty list", res, err)
	}
}
