package collect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-audit/exposure/kube"
)

// TestBundleK8sObjects: the objects survive a write and read, and a bundle
// written before k8s_objects existed still loads, without them.
func TestBundleK8sObjects(t *testing.T) {
	inv := &kube.Inventory{
		Services: []corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}},
		}},
		Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.2"}}}}},
	}
	b := &Bundle{FormatVersion: BundleFormatVersion, Kind: BundleKind, K8sObjects: inv}
	var buf strings.Builder
	if err := WriteBundle(&buf, b, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"k8s_objects"`) {
		t.Errorf("got bundle without a k8s_objects member, want one")
	}
	got, err := ReadBundle([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inv, got.K8sObjects); diff != "" {
		t.Errorf("got objects differ after a round trip (-want +got):\n%s", diff)
	}

	old, err := os.ReadFile(filepath.Join("..", "examples", "kube-proxy-node.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(old), "k8s_objects") {
		t.Fatal("examples/kube-proxy-node.bundle has k8s_objects; this case needs a bundle without them")
	}
	ob, err := ReadBundle(old)
	if err != nil {
		t.Fatalf("got error %v reading a bundle without k8s_objects, want none", err)
	}
	if ob.K8sObjects != nil {
		t.Errorf("got objects %+v from a bundle without k8s_objects, want nil", ob.K8sObjects)
	}
	b.K8sObjects = nil
	buf.Reset()
	if err := WriteBundle(&buf, b, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "k8s_objects") {
		t.Errorf("got k8s_objects in a bundle without objects, want the member left out")
	}
}
