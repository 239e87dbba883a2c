package main

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/k8slab"
	"github.com/exposure-audit/exposure/kube"
	"github.com/exposure-audit/exposure/report"
)

var updateK8s = flag.Bool("update-k8s", false, "rewrite cmd/exposure/testdata/k8s-*.golden")

// k8sData is the real kube-proxy capture: objects and the rulesets
// kube-proxy programmed from them (testdata/k8s/README.md).
var k8sData = filepath.Join("testdata", "k8s")

func k8sFile(name string) string { return filepath.Join(k8sData, name) }

// objectArgs names the captured objects; without svc-nodeport when asked.
func objectArgs(withoutNodePort bool) []string {
	svcs, slices := "services.json", "endpointslices.json"
	if withoutNodePort {
		svcs, slices = "services-without-svc-nodeport.json", "endpointslices-without-svc-nodeport.json"
	}
	return []string{"--k8s-objects", k8sFile("nodes.json"), "--k8s-objects", k8sFile(svcs), "--k8s-objects", k8sFile(slices)}
}

// rulesArgs audits one captured ruleset of the node namespace.
func rulesArgs(file string) []string {
	return []string{"audit", "--rules", k8sFile(file), "--local-addrs", k8sFile("node.local-addrs"), "-i", "eth0"}
}

// noKubeconfig makes the default kubeconfig lookup find nothing.
func noKubeconfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
}

// objectsServer serves the captured lists as the API would (one page
// each); forbidden paths answer 403 with the API server's message.
func objectsServer(t *testing.T, forbidden map[string]string) string {
	t.Helper()
	files := map[string]string{
		"/api/v1/nodes": "nodes.json", "/api/v1/services": "services.json",
		"/apis/discovery.k8s.io/v1/endpointslices": "endpointslices.json",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if msg, ok := forbidden[r.URL.Path]; ok {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403, "message": msg})
			return
		}
		if r.URL.Path == "/api/v1/pods" {
			w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`))
			return
		}
		data, err := os.ReadFile(k8sFile(files[r.URL.Path]))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	doc := "apiVersion: v1\nkind: Config\ncurrent-context: lab\nclusters:\n- name: lab\n  cluster:\n    server: " + srv.URL +
		"\ncontexts:\n- name: lab\n  context:\n    cluster: lab\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n"
	if err := os.WriteFile(kc, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestK8sExitCodes(t *testing.T) {
	noKubeconfig(t)
	bundle := filepath.Join("..", "..", "examples", "kube-proxy-node.bundle")
	unreachable := filepath.Join(t.TempDir(), "unreachable")
	os.WriteFile(unreachable, []byte("apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: x\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: x\n  context:\n    cluster: x\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n"), 0o600)
	forbidden := objectsServer(t, map[string]string{"/apis/discovery.k8s.io/v1/endpointslices": `endpointslices.discovery.k8s.io is forbidden: User "audit" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope`})
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"missing objects file", []string{"audit", "--snapshot", bundle, "--k8s-objects", "/nonexistent.json"}, ExitBadInput, "read k8s objects"},
		{"objects and kubeconfig", append([]string{"audit", "--snapshot", bundle, "--kubeconfig", unreachable}, objectArgs(false)...), ExitBadInput, "exclude each other"},
		{"named kubeconfig missing", []string{"audit", "--snapshot", bundle, "--kubeconfig", "/nonexistent/kubeconfig"}, ExitBadInput, "load kubeconfig"},
		{"named kubeconfig unreachable", []string{"audit", "--snapshot", bundle, "--kubeconfig", unreachable}, ExitBadInput, "list nodes cluster-wide"},
		{"RBAC denial names verb and resource", []string{"audit", "--snapshot", bundle, "--kubeconfig", forbidden}, ExitBadInput, "list endpointslices.discovery.k8s.io cluster-wide: forbidden: endpointslices.discovery.k8s.io is forbidden"},
		{"no objects: a note, not an error", []string{"audit", "--snapshot", bundle}, ExitOK, "no Kubernetes objects"},
		{"bad fail-on", []string{"audit", "--snapshot", bundle, "--fail-on", "critical"}, ExitBadInput, "--fail-on"},
		{"fail on findings without objects", []string{"audit", "--snapshot", bundle, "--fail-on", "finding"}, ExitOK, ""},
		{"k8s needs objects", []string{"k8s"}, ExitBadInput, "no kubeconfig"},
		{"k8s bad output", append([]string{"k8s", "-o", "xml"}, objectArgs(false)...), ExitBadInput, "unknown output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.want || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("got exit %d, stderr %q; want exit %d and %q", code, stderr, tc.want, tc.wantErr)
			}
		})
	}
}

// TestK8sInventoryLive: on a live run without --kubeconfig an unreachable
// or absent API is a note; a named one must answer.
func TestK8sInventoryLive(t *testing.T) {
	noKubeconfig(t)
	objs, err := (&k8sOpts{}).inventory(context.Background(), nil, true)
	if err != nil || objs.inv != nil || !strings.Contains(objs.note, "no kubeconfig found") {
		t.Errorf("got %+v, %v; want no objects, no error and a note saying no kubeconfig was found", objs, err)
	}
	kc := objectsServer(t, nil)
	t.Setenv("KUBECONFIG", kc)
	objs, err = (&k8sOpts{}).inventory(context.Background(), nil, true)
	if err != nil || objs.inv == nil || len(objs.inv.Services) != 9 || len(objs.inv.EndpointSlices) != 7 {
		t.Fatalf("got %+v, %v; want the 9 Services and 7 EndpointSlices listed through $KUBECONFIG", objs, err)
	}
	if !strings.Contains(objs.from, kc) {
		t.Errorf("got source %q, want it to name %s", objs.from, kc)
	}
}

// auditDoc is the JSON of `exposure audit` with Kubernetes objects.
type auditDoc struct {
	Exposures []exposure.Exposure `json:"exposures"`
	Node      string              `json:"node"`
	Findings  []kube.Finding      `json:"findings"`
}

func findingKeys(fs []kube.Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		out[string(f.ID)+" "+f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name] = true
	}
	return out
}

// TestAuditK8sOwners: every forwarded NodePort row names its Service port
// and how it is exposed.
func TestAuditK8sOwners(t *testing.T) {
	code, out, stderr := runCLI(t, append(append(rulesArgs("iptables-01-synced.iptables-nft-save"), objectArgs(false)...), "-o", "json")...)
	if code != ExitOK {
		t.Fatalf("got exit %d (stderr %q)", code, stderr)
	}
	var doc auditDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{30080: "default/svc-nodeport:http", 30081: "default/svc-lb:http", 30082: "default/svc-local:http"}
	seen := map[int]bool{}
	for _, e := range doc.Exposures {
		name, ok := want[e.PortFrom]
		if !ok || e.State != exposure.Forwarded || e.Proto != "tcp" {
			continue
		}
		seen[e.PortFrom] = true
		o := e.Owner
		if o.Kind != exposure.KindService || exposure.ObjectText(o) != name || o.Via != exposure.ViaNodePort {
			t.Errorf("got owner %+v for tcp %s:%d, want Service %s via nodePort", o, e.Addr, e.PortFrom, name)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("got forwarded NodePorts %v, want %v", seen, want)
	}
}

func TestK8sGolden(t *testing.T) {
	testK8sGolden(t, []goldenCase{
		{"declared-table", append([]string{"k8s"}, objectArgs(false)...)},
		{"declared-json", append([]string{"k8s", "--node", "kp-node", "-o", "json"}, objectArgs(false)...)},
	})
}

type goldenCase struct {
	name string
	args []string
}

// testK8sGolden compares each case's output with testdata/k8s-NAME.golden.
func testK8sGolden(t *testing.T, tests []goldenCase) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("got exit %d, want 0 (stderr %q)", code, stderr)
			}
			path := filepath.Join("testdata", "k8s-"+tc.name+".golden")
			if *updateK8s {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden: %v (run go test ./cmd/exposure -run TestK8sGolden -update-k8s)", err)
			}
			if out != string(want) {
				t.Errorf("got output differs from %s (run with -update-k8s to accept)", path)
			}
		})
	}
}

// TestK8sDeclared checks what the declared list says about the captured
// Services, independently of the golden file.
func TestK8sDeclared(t *testing.T) {
	code, out, stderr := runCLI(t, append([]string{"k8s", "--node", "kp-node", "-o", "json"}, objectArgs(false)...)...)
	if code != ExitOK {
		t.Fatalf("got exit %d (stderr %q)", code, stderr)
	}
	var doc report.Declared
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	type key struct {
		via  exposure.Via
		addr string
		port int
		obj  string
	}
	got := map[key]report.NodeDeclaration{}
	for _, d := range doc.Declared {
		got[key{d.Via, d.Addr, d.PortFrom, d.Object.Namespace + "/" + d.Object.Name}] = d
	}
	want := []struct {
		k         key
		endpoints int
		ranges    int
	}{
		{key{exposure.ViaNodePort, kube.AnyAddr, 30080, "default/svc-nodeport"}, 2, 0},
		{key{exposure.ViaLoadBalancer, "203.0.113.50", 80, "default/svc-lb"}, 1, 1},
		{key{exposure.ViaExternalIP, "192.0.2.3", 80, "default/svc-extip"}, 2, 0},
		{key{exposure.ViaHealthCheckNodePort, kube.AnyAddr, 30090, "default/svc-local"}, -1, 0},
	}
	for _, w := range want {
		d, ok := got[w.k]
		if !ok {
			t.Errorf("got no declaration %+v, want one", w.k)
			continue
		}
		if d.Node != "kp-node" || (w.endpoints >= 0 && d.Endpoints != w.endpoints) || len(d.SourceRanges) != w.ranges {
			t.Errorf("got %+v, want node kp-node, %d endpoints, %d source ranges", d, w.endpoints, w.ranges)
		}
	}
}

// TestSnapshotObjects: snapshot records --k8s-objects in the bundle, and
// audit --snapshot joins them.
func TestSnapshotObjects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "kube-proxy-node.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := collect.ReadBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	o := &snapshotOpts{}
	for i := 1; i < len(objectArgs(false)); i += 2 {
		o.k8s.objects = append(o.k8s.objects, objectArgs(false)[i])
	}
	if err := o.recordObjects(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if b.K8sObjects == nil || len(b.K8sObjects.Services) != 9 || !strings.Contains(b.Provenance["k8s_objects"], "--k8s-objects") {
		t.Fatalf("got objects %v, provenance %q; want the 9 Services from the files", b.K8sObjects != nil, b.Provenance["k8s_objects"])
	}
	path := filepath.Join(t.TempDir(), "node.bundle.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := collect.WriteBundle(f, b, true); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, stderr := runCLI(t, "audit", "--snapshot", path, "-o", "json")
	if code != ExitOK {
		t.Fatalf("got exit %d (stderr %q)", code, stderr)
	}
	var doc auditDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Node != "kp-node" || !strings.Contains(stderr, "the snapshot's k8s_objects") {
		t.Errorf("got node %q, stderr %q; want kp-node joined from the snapshot's objects", doc.Node, stderr)
	}
}

// TestK8sCommandRealAPI lists from a real kube-apiserver (internal/k8slab)
// through --kubeconfig: exposure k8s declares the NodePort of a Service
// created there, with its ready endpoints.
func TestK8sCommandRealAPI(t *testing.T) {
	c := k8slab.Shared(t)
	objs := k8slab.NewObjects(t, c)
	node := objs.Namespace + "-node"
	objs.Node(node, netip.MustParseAddr("192.0.2.2"))
	svc := objs.Service(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}})
	objs.EndpointSlice(svc, k8slab.Endpoint{IP: netip.MustParseAddr("198.51.100.11"), Node: node}, k8slab.Endpoint{IP: netip.MustParseAddr("198.51.100.12"), Node: node})
	code, out, stderr := runCLI(t, "k8s", "--kubeconfig", c.Kubeconfig, "--context", "lab", "--node", node, "-o", "json", "--k8s-page-size", "1")
	if code != ExitOK {
		t.Fatalf("got exit %d (stderr %q)", code, stderr)
	}
	var doc report.Declared
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range doc.Declared {
		if d.Object.Namespace == objs.Namespace && d.Object.Name == "web" && d.Via == exposure.ViaNodePort {
			found = true
			if d.Node != node || d.PortFrom != int(svc.Spec.Ports[0].NodePort) || d.Endpoints != 2 {
				t.Errorf("got %+v, want node %s, nodePort %d, 2 endpoints", d, node, svc.Spec.Ports[0].NodePort)
			}
		}
	}
	if !found {
		t.Errorf("got declarations %+v, want the NodePort of %s/web", doc.Declared, objs.Namespace)
	}
}

// TestSnapshotObjectsFromAPI: snapshot records what the named API server
// lists, with the server in the provenance; a default one that is absent
// leaves a note and no objects.
func TestSnapshotObjectsFromAPI(t *testing.T) {
	noKubeconfig(t)
	b := &collect.Bundle{}
	o := &snapshotOpts{k8s: k8sOpts{kubeconfig: objectsServer(t, nil)}}
	if err := o.recordObjects(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if b.K8sObjects == nil || len(b.K8sObjects.EndpointSlices) != 7 || !strings.Contains(b.Provenance["k8s_objects"], "http://127.0.0.1:") {
		t.Errorf("got objects %v, provenance %q; want the 7 EndpointSlices and the server", b.K8sObjects != nil, b.Provenance["k8s_objects"])
	}
	b = &collect.Bundle{}
	if err := (&snapshotOpts{}).recordObjects(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if b.K8sObjects != nil || len(b.Notes) != 1 || !strings.Contains(b.Notes[0], "no kubeconfig found") {
		t.Errorf("got objects %v, notes %q; want none and a note", b.K8sObjects != nil, b.Notes)
	}
}
