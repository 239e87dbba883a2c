package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/exposure-audit/exposure/exposure"
)

const cniExample = "kube-proxy-node.iptables-save"

// webPod is the pod behind the example's CNI portmap DNATs (hostPorts
// 8080→80/tcp, 5353→53/udp, 127.0.0.1:9090→80/tcp on 198.51.100.20).
func webPod(ports ...corev1.ContainerPort) corev1.Pod {
	return pod("default", "web", "uid-web", "kp-node", "198.51.100.20", false, container("web", ports...))
}

func allWebPorts() []corev1.ContainerPort {
	return []corev1.ContainerPort{tcpPort(80, 8080), {Protocol: corev1.ProtocolUDP, ContainerPort: 53, HostPort: 5353},
		{Protocol: corev1.ProtocolTCP, ContainerPort: 80, HostPort: 9090, HostIP: "127.0.0.1"}}
}

// exporter is a hostNetwork pod declaring 9100, whose container is abc123.
func exporter() corev1.Pod {
	p := pod("monitoring", "node-exporter", "uid-exp", "kp-node", "", true, container("exporter", tcpPort(9100, 9100)))
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "exporter", ContainerID: "containerd://abc123"}}
	return p
}

// kubeProxyPod is kube-proxy's DaemonSet pod (hostNetwork, no ports
// declared), container kp1.
func kubeProxyPod() corev1.Pod {
	p := pod("kube-system", "kube-proxy-x", "uid-kp", "kp-node", "", true, container("kube-proxy"))
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "kube-proxy", ContainerID: "cri-o://kp1"}}
	return p
}

var (
	// kube-proxy serving svc-local's health check and its own healthz.
	kubeProxyListen = []exposure.Listener{
		{Proto: "tcp", Addr: "0.0.0.0", Port: 30090, Wildcard: true, PID: 7, Process: "kube-proxy", Container: "kp1", HostNetNS: true},
		{Proto: "tcp", Addr: "0.0.0.0", Port: 10256, Wildcard: true, PID: 7, Process: "kube-proxy", Container: "kp1", HostNetNS: true},
	}
	exporterListen = []exposure.Listener{
		{Proto: "tcp", Addr: "0.0.0.0", Port: 9100, Wildcard: true, PID: 10, Process: "node_exporter", Container: "abc123", HostNetNS: true},
		{Proto: "tcp", Addr: "192.0.2.2", Port: 9200, PID: 10, Process: "node_exporter", Container: "abc123", HostNetNS: true},
		{Proto: "tcp", Addr: "127.0.0.1", Port: 9300, PID: 10, Process: "node_exporter", Container: "abc123", HostNetNS: true},
	}
	sshd     = exposure.Listener{Proto: "tcp", Addr: "0.0.0.0", Port: 22, Wildcard: true, PID: 1, Process: "sshd", HostNetNS: true}
	orphaned = exposure.Listener{Proto: "tcp", Addr: "192.0.2.2", Port: 7777}
)

// TestReconcilePods: hostPort DNATs (CNI portmap) against pods, hostNetwork
// listeners against their specs, and ports nothing explains.
func TestReconcilePods(t *testing.T) {
	tests := []reconcileCase{
		{name: "hostPorts all programmed", rules: cniExample, edits: []edit{addPods(webPod(allWebPorts()...))}, want: []string{allIfaces, lbRanges}},
		{name: "DNAT for a port the pod no longer declares", rules: cniExample, edits: []edit{addPods(webPod(allWebPorts()[0], allWebPorts()[2]))},
			want:     []string{allIfaces, lbRanges, "stale-hostport Pod default/web"},
			evidence: map[FindingID]string{StaleHostPort: "udp hostPort 5353 → 198.51.100.20:53"}},
		{name: "DNATs for a pod that is gone", rules: cniExample,
			want:     []string{allIfaces, lbRanges, "stale-hostport Pod /sandbox:2fcfa8bd90bd"},
			evidence: map[FindingID]string{StaleHostPort: "tcp hostPort 9090 → 198.51.100.20:80"}},
		{name: "hostPort without DNAT", rules: cniExample, edits: []edit{addPods(webPod(allWebPorts()...),
			pod("default", "api", "uid-api", "kp-node", "198.51.100.21", false, container("api", tcpPort(443, 8443))),
			pod("default", "elsewhere", "uid-e", "kp-other", "198.51.100.22", false, container("api", tcpPort(443, 8443))))},
			want:     []string{"hostport-not-programmed Pod default/api", allIfaces, lbRanges},
			evidence: map[FindingID]string{HostPortNotProgrammed: "container api: hostPort tcp *:8443 → 198.51.100.21:443: no DNAT"}},
		{name: "hostNetwork pod listening undeclared and on every address", rules: cniExample,
			edits: []edit{addPods(webPod(allWebPorts()...), exporter())}, listeners: append(exporterListen, sshd),
			want: []string{allIfaces, lbRanges, "undeclared-host-port Pod monitoring/node-exporter", "wildcard-host-bind Pod monitoring/node-exporter"},
			evidence: map[FindingID]string{UndeclaredHostPort: "tcp 192.0.2.2:9200 node_exporter[10] container abc123",
				WildcardHostBind: "tcp 0.0.0.0:9100 node_exporter[10]"}},
		{name: "kube-proxy pod: health check port explained, healthz not declared", rules: cniExample,
			edits: []edit{addPods(webPod(allWebPorts()...), kubeProxyPod())}, listeners: kubeProxyListen,
			want:     []string{allIfaces, lbRanges, "undeclared-host-port Pod kube-system/kube-proxy-x", "wildcard-host-bind Pod kube-system/kube-proxy-x"},
			evidence: map[FindingID]string{UndeclaredHostPort: "tcp 0.0.0.0:10256 kube-proxy[7]"}},
		{name: "socket nothing explains", rules: cniExample, edits: []edit{addPods(webPod(allWebPorts()...))}, listeners: []exposure.Listener{sshd, orphaned},
			want: []string{allIfaces, lbRanges, "unowned-exposure  /tcp/192.0.2.2:7777"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runReconcile(t, tc)
			checkFindings(t, tc, res)
		})
	}
}

// TestJoinOwners: the owners Reconcile writes into the exposure map.
func TestJoinOwners(t *testing.T) {
	tc := reconcileCase{rules: cniExample, edits: []edit{addPods(webPod(allWebPorts()...), exporter(), kubeProxyPod())},
		listeners: append(append(exporterListen, sshd), kubeProxyListen...)}
	_, rep := runReconcile(t, tc)
	got := map[string]string{}
	for _, e := range rep.Exposures {
		if e.Addr != "192.0.2.2" || e.State != exposure.Open && e.State != exposure.Forwarded {
			continue
		}
		o := e.Owner
		got[e.Proto+"/"+itoa(e.PortFrom)] = o.Component + " " + o.Kind + " " + exposure.ObjectText(o) + " " + string(o.Via)
	}
	want := map[string]string{
		"tcp/22":    "host   ",
		"tcp/8080":  "cni-portmap Pod pod default/web/web hostPort",
		"udp/5353":  "cni-portmap Pod pod default/web/web hostPort",
		"tcp/9100":  "host Pod pod monitoring/node-exporter/exporter hostNetwork",
		"tcp/9200":  "host Pod pod monitoring/node-exporter/exporter hostNetwork",
		"tcp/30080": "kube-proxy Service default/svc-nodeport:http nodePort",
		"tcp/30081": "kube-proxy Service default/svc-lb:http nodePort",
		"tcp/30082": "kube-proxy Service default/svc-local:http nodePort",
		"tcp/30090": "kube-proxy Service default/svc-local:http healthCheckNodePort",
		"tcp/10256": "host Pod pod kube-system/kube-proxy-x/kube-proxy hostNetwork",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("owner of %s: got %q, want %q", k, got[k], w)
		}
	}
}
