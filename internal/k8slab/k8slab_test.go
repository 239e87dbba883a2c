package k8slab

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestVersionMatchesScript keeps Version and scripts/k8s-bins together.
func TestVersionMatchesScript(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "scripts", "k8s-bins"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^K8S_VERSION=(\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no K8S_VERSION= line in scripts/k8s-bins")
	}
	if got := string(m[1]); got != Version {
		t.Errorf("scripts/k8s-bins builds %s, k8slab.Version is %s", got, Version)
	}
}

// TestClusterServes checks the API server answers with the pinned version
// through the kubeconfig (CA by absolute path, bearer token).
func TestClusterServes(t *testing.T) {
	c := Shared(t)
	v, err := c.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != Version {
		t.Errorf("server version %s, want %s", v.GitVersion, Version)
	}
	if !filepath.IsAbs(c.CA()) {
		t.Errorf("CA path %s is not absolute", c.CA())
	}
}

// TestProxyServesNodePort runs kube-proxy in both modes and reaches a
// NodePort Service's pod from the client, and the API server from inside
// the node through the bridge.
func TestProxyServesNodePort(t *testing.T) {
	for _, mode := range []ProxyMode{IPTables, NFTables} {
		t.Run(string(mode), func(t *testing.T) { proxyServesNodePort(t, mode) })
	}
}

func proxyServesNodePort(t *testing.T, mode ProxyMode) {
	c := Shared(t)
	topo := NewTopology(t, 2)
	o := NewObjects(t, c)
	node := topo.Prefix + "node"
	o.Node(node, NodeIP)
	for _, p := range topo.Pods {
		if err := p.ServeTCP(8080); err != nil {
			t.Fatal(err)
		}
	}
	svc := o.Service(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}},
	})
	o.EndpointSlice(svc, Endpoint{IP: topo.Pods[0].IP, Node: node})
	start := time.Now()
	topo.StartProxy(t, c, mode, node)
	t.Logf("kube-proxy %s synced in %v", mode, time.Since(start))
	dst := netip.AddrPortFrom(NodeIP, uint16(svc.Spec.Ports[0].NodePort))
	got, err := topo.Hello(ClientIP, "tcp", dst, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := Greeting("pod1", 8080); got != want {
		t.Errorf("NodePort %v answered %q, want %q", dst, got, want)
	}
	out, err := topo.Run(topo.Node, "iptables-save", "-t", "nat")
	if err != nil {
		t.Fatal(err)
	}
	if mode == IPTables && !strings.Contains(out, "KUBE-NODEPORTS") {
		t.Errorf("iptables mode left no KUBE-NODEPORTS chain:\n%s", out)
	}
}

// TestTopologyCleanup checks the sysctls the topology sets and that its
// cleanup stops kube-proxy and deletes every namespace it made.
func TestTopologyCleanup(t *testing.T) {
	c := Shared(t)
	var topo *Topology
	var kp *Proxy
	t.Run("inner", func(t *testing.T) {
		topo = NewTopology(t, 1)
		node := topo.Prefix + "node"
		NewObjects(t, c).Node(node, NodeIP)
		for ns, want := range map[string]string{topo.Node: "1", topo.Client: "0", topo.Pods[0].NS: "0"} {
			out, err := topo.Run(ns, "sysctl", "-n", "net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter",
				"net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.accept_redirects")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Fields(out); !slices.Equal(got, []string{want, "0", "0", "0"}) {
				t.Errorf("%s: ip_forward, rp_filter, send_redirects, accept_redirects = %v, want [%s 0 0 0]", ns, got, want)
			}
		}
		kp = topo.StartProxy(t, c, IPTables, node)
	})
	if !kp.p.exited() {
		t.Error("kube-proxy still runs after cleanup")
	}
	for _, ns := range topo.namespaces() {
		if _, err := os.Stat(nsPath(ns)); err == nil {
			t.Errorf("namespace %s left after cleanup", ns)
		}
	}
}
