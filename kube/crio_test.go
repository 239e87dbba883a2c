package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestReconcileCRIOHostports: CRI-O's nftables hostport maps against pods,
// from the rules alone (no exposure map).
func TestReconcileCRIOHostports(t *testing.T) {
	rs := loadRules(t, "crio-hostports.nft", nil)
	udp := func(c, h int32) corev1.ContainerPort {
		return corev1.ContainerPort{Protocol: corev1.ProtocolUDP, ContainerPort: c, HostPort: h}
	}
	full := pod("shop", "front", "uid-f", "n1", "203.0.113.2", false, container("web",
		tcpPort(80, 8080), udp(81, 8081), tcpPort(443, 9999), udp(443, 9999),
		corev1.ContainerPort{Protocol: corev1.ProtocolTCP, ContainerPort: 443, HostPort: 8888, HostIP: "198.51.100.1"}))
	tests := []struct {
		name string
		pods []corev1.Pod
		want []string
	}{
		{"every hostPort has its element", []corev1.Pod{full}, []string{}},
		{"pod gone", nil, []string{"stale-hostport Pod /sandbox:6UOYUYR5DU6T", "stale-hostport Pod /sandbox:BBK5KOLM3RTT", "stale-hostport Pod /sandbox:VJVSBXBJ2B2X"}},
		{"pod declares one more hostPort", []corev1.Pod{func() corev1.Pod {
			p := full.DeepCopy()
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, tcpPort(8443, 8443))
			return *p
		}()}, []string{"hostport-not-programmed Pod shop/front"}},
		{"pod on another node", []corev1.Pod{func() corev1.Pod {
			p := full.DeepCopy()
			p.Spec.NodeName = "n2"
			return *p
		}()}, []string{"stale-hostport Pod shop/front"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Reconcile(Input{Inventory: &Inventory{Pods: tc.pods}, Node: "n1", Ruleset: rs})
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, reconcileCase{want: tc.want}, res)
			if tc.pods == nil {
				checkFindings(t, reconcileCase{want: tc.want, evidence: map[FindingID]string{
					StaleHostPort: "tcp hostPort 8080 → 203.0.113.2:80: ip crio-hostports map hostports: tcp . 8080 : 203.0.113.2 . 80"}}, res)
			}
		})
	}
}
