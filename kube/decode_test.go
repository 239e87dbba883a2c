package kube

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// corpusInventory decodes and merges the recorded API objects.
func corpusInventory(t testing.TB) *Inventory {
	t.Helper()
	inv := &Inventory{}
	for _, f := range []string{"nodes.json", "services.json", "endpointslices.json"} {
		path := filepath.Join("testdata", "api-objects", f)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		part, err := Decode(path, data)
		if err != nil {
			t.Fatal(err)
		}
		inv.Add(part)
	}
	return inv
}

// counts summarises an inventory as kind → names.
func counts(inv *Inventory) map[string][]string {
	out := map[string][]string{}
	for _, n := range inv.Nodes {
		out["Node"] = append(out["Node"], n.Name)
	}
	for _, p := range inv.Pods {
		out["Pod"] = append(out["Pod"], p.Namespace+"/"+p.Name)
	}
	for _, s := range inv.Services {
		out["Service"] = append(out["Service"], s.Namespace+"/"+s.Name)
	}
	for _, s := range inv.EndpointSlices {
		out["EndpointSlice"] = append(out["EndpointSlice"], s.Namespace+"/"+s.Name)
	}
	return out
}

func TestDecodeCorpus(t *testing.T) {
	got := counts(corpusInventory(t))
	want := map[string][]string{
		"Node": {"kp-node"},
		"Service": {"default/kubernetes", "default/svc-affinity", "default/svc-clusterip", "default/svc-extip",
			"default/svc-lb", "default/svc-local", "default/svc-nodeport", "default/svc-noep", "default/svc-udp"},
		"EndpointSlice": {"default/svc-affinity-kp1", "default/svc-clusterip-kp1", "default/svc-extip-kp1",
			"default/svc-lb-kp1", "default/svc-local-kp1", "default/svc-nodeport-kp1", "default/svc-udp-kp1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded objects (-want +got):\n%s", diff)
	}
}

const podYAML = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  nodeName: n1
  containers:
  - name: c
    ports: [{containerPort: 80, hostPort: 8080}]
`

func TestDecodeForms(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string][]string
		skipped map[string]int
	}{
		{"single YAML object", podYAML, map[string][]string{"Pod": {"default/web"}}, nil},
		{"multi-document YAML", "---\n" + podYAML + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\n---\n",
			map[string][]string{"Pod": {"default/web"}, "Service": {"x/s"}}, nil},
		{"kubectl v1 List", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}},
			{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"e","namespace":"d"},"addressType":"IPv4","endpoints":[]},
			{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}]}`,
			map[string][]string{"Node": {"n1"}, "EndpointSlice": {"d/e"}}, map[string]int{"Deployment": 1}},
		{"typed list, items without kind", `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a","namespace":"n"}}]}`,
			map[string][]string{"Pod": {"n/a"}}, nil},
		{"JSON stream", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"Node","metadata":{"name":"b"}}`, map[string][]string{"Node": {"a", "b"}}, nil},
		{"JSON array", `[{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}]`, map[string][]string{"Node": {"a"}}, nil},
		{"duplicates, later wins", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}`, map[string][]string{"Node": {"a"}}, nil},
		{"empty", "", map[string][]string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Decode("in", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, counts(inv)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.skipped, inv.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
	}{
		{"JSON syntax", "{\"kind\": \"Pod\",\n  \"metadata\": {,}}", 2, 16},
		{"JSON wrong type", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\n\"spec\": {\"containers\": 3}}", 1, 1},
		{"second JSON object bad", "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}\n{\"kind\": }", 2, 10},
		{"YAML syntax in second document", podYAML + "---\nkind: Pod\nmetadata: {name: [\n", 11, 1},
		{"YAML wrong type", "apiVersion: v1\nkind: Service\nspec:\n  ports: 7\n", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("objs.yaml", []byte(tc.in))
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got error %v, want a *netfilter.ParseError", err)
			}
			if pe.File != "objs.yaml" || pe.Line != tc.line || pe.Col != tc.col {
				t.Errorf("got %s:%d:%d (%v), want objs.yaml:%d:%d", pe.File, pe.Line, pe.Col, err, tc.line, tc.col)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(podYAML))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":80}]}}]}`))
	for _, n := range []string{"services.json", "endpointslices.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", "api-objects", n)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Decode("fuzz", data)
		if err != nil {
			var pe *nf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got error %T %v, want *netfilter.ParseError", err, err)
			}
			return
		}
		// Whatever decodes must be usable by the rest of the package.
		_ = Declared(inv, "")
		if _, err := Reconcile(Input{Inventory: inv, Node: "n"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeYAMLList(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
  spec:
    type: NodePort
    clusterIP: 10.0.0.9
    ports: [{name: http, port: 80, nodePort: 30080}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  endpoints: [{addresses: [10.1.1.1], conditions: {ready: true}}]
  ports: [{name: http, port: 8080}]
metadata: {resourceVersion: ""}
`
	inv, err := Decode("get.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	// (Without a clusterIP kube-proxy skips a Service, as Declared does.)
	if got := Declared(inv, ""); len(got) != 1 || got[0].PortFrom != 30080 || got[0].Endpoints != 1 {
		t.Errorf("got %+v, want the nodePort 30080 of shop/web with 1 endpoint", got)
	}
}

func TestInventoryAdd(t *testing.T) {
	a, err := Decode("a.json", []byte(`{"apiVersion":"v1","kind":"List","items":[
		{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1","namespace":"n"},"spec":{"type":"ClusterIP"}},
		{"apiVersion":"v1","kind":"Service","metadata":{"name":"s2","namespace":"n"}},
		{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode("b.json", []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1","namespace":"n"},"spec":{"type":"NodePort"}}
{"apiVersion":"v1","kind":"Service","metadata":{"name":"s3","namespace":"n"}}
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"}}`))
	if err != nil {
		t.Fatal(err)
	}
	a.Add(b)
	var got []string
	for _, s := range a.Services {
		got = append(got, s.Name+" "+string(s.Spec.Type))
	}
	if diff := cmp.Diff([]string{"s1 NodePort", "s2 ", "s3 "}, got); diff != "" {
		t.Errorf("merged Services (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"ConfigMap": 2}, a.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}
