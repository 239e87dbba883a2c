package exposure

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/trace"
)

// TestOwnerNamesKubernetesObjects: what the rules alone say about the
// Kubernetes object behind a path (kube-proxy comments and nftables chain
// names, kubelet/CRI-O hostport comments, CNI portmap comments).
func TestOwnerNamesKubernetesObjects(t *testing.T) {
	tests := []struct {
		name string
		o    Owner
		step trace.Step
		want Owner
	}{
		{"iptables NodePort", Owner{Component: CompKubeProxy},
			trace.Step{Table: "nat", Chain: "KUBE-NODEPORTS", Text: `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/svc-nodeport:http" -m tcp --dport 30080 -j KUBE-EXT-X`},
			Owner{Component: CompKubeProxy, Kind: KindService, Namespace: "default", Name: "svc-nodeport", Port: "http", Via: ViaNodePort}},
		{"iptables externalIP", Owner{Component: CompKubeProxy},
			trace.Step{Table: "nat", Chain: "KUBE-SERVICES", Text: `-A KUBE-SERVICES -d 192.0.2.3/32 -p tcp -m comment --comment "default/svc-extip:http external IP" -m tcp --dport 80 -j KUBE-EXT-X`},
			Owner{Component: CompKubeProxy, Kind: KindService, Namespace: "default", Name: "svc-extip", Port: "http", Via: ViaExternalIP}},
		{"iptables unnamed port", Owner{Component: CompKubeProxy},
			trace.Step{Table: "nat", Chain: "KUBE-SEP-X", Text: `-A KUBE-SEP-X -p tcp -m comment --comment "ns-1/metrics" -m tcp -j DNAT --to-destination 10.1.1.1:9090`},
			Owner{Component: CompKubeProxy, Kind: KindService, Namespace: "ns-1", Name: "metrics"}},
		{"iptables health check node port", Owner{Component: CompKubeProxy},
			trace.Step{Table: "filter", Chain: "KUBE-NODEPORTS", Text: `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/svc-local:http health check node port" -m tcp --dport 30090 -j ACCEPT`},
			Owner{Component: CompKubeProxy, Kind: KindService, Namespace: "default", Name: "svc-local", Port: "http", Via: ViaHealthCheckNodePort}},
		{"nftables unnamed port", Owner{Component: CompKubeProxy},
			trace.Step{Backend: "nftables", Table: "kube-proxy", Chain: "service-ABCD1234-ns-1/metrics/tcp/", Text: "numgen random mod 1 vmap { 0 : goto endpoint-X }"},
			Owner{Component: CompKubeProxy, Kind: KindService, Namespace: "ns-1", Name: "metrics"}},
		{"kubelet/CRI-O hostport names the pod", Owner{Component: CompCRIO},
			trace.Step{Table: "nat", Chain: "KUBE-HP-ABC", Text: `-A KUBE-HP-ABC -p tcp -m comment --comment "web-0_prod hostport 8080" -m tcp -j DNAT --to-destination 10.88.0.5:80`},
			Owner{Component: CompCRIO, Kind: KindPod, Namespace: "prod", Name: "web-0", Via: ViaHostPort}},
		{"CNI portmap names the sandbox", Owner{Component: CompCNIPortmap},
			trace.Step{Table: "nat", Chain: "CNI-DN-X", Text: `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"cbr0\" id: \"abc123\"" -j CNI-DN-X`},
			Owner{Component: CompCNIPortmap, Via: ViaHostPort, Container: "abc123"}},
		// netavark 1.4 writes the CNI comment without quotes
		// (shared/corpus/real/podman/netavark/01-netavark-after-run).
		{"netavark names the container", Owner{Component: CompUnattributed},
			trace.Step{Table: "nat", Chain: "NETAVARK-HOSTPORT-DNAT", Text: `-A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 8080 -m comment --comment "dnat name: podman id: ae9903072bd1" -j NETAVARK-DN-1D87`},
			Owner{Component: CompPodman, Container: "ae9903072bd1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			annotate(&o, tc.step)
			if diff := cmp.Diff(tc.want, o); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
		})
	}
}
