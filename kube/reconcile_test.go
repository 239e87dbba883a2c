package kube

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// edit changes an inventory for one case.
type edit func(*Inventory)

// deleteService removes a Service and its EndpointSlices (what `kubectl
// delete service` and the EndpointSlice controller do).
func deleteService(name string) edit {
	return func(inv *Inventory) {
		inv.Services = slices.DeleteFunc(inv.Services, func(s corev1.Service) bool { return s.Name == name })
		inv.EndpointSlices = slices.DeleteFunc(inv.EndpointSlices, func(s discoveryv1.EndpointSlice) bool {
			return s.Labels[discoveryv1.LabelServiceName] == name
		})
	}
}

// editSlice changes the EndpointSlice of a Service.
func editSlice(svc string, f func(*discoveryv1.EndpointSlice)) edit {
	return func(inv *Inventory) {
		for i := range inv.EndpointSlices {
			if inv.EndpointSlices[i].Labels[discoveryv1.LabelServiceName] == svc {
				f(&inv.EndpointSlices[i])
			}
		}
	}
}

// addPods adds pods.
func addPods(ps ...corev1.Pod) edit {
	return func(inv *Inventory) { inv.Pods = append(inv.Pods, ps...) }
}

// pod builds a running, ready pod on node with IP ip (none for
// hostNetwork) and containers.
func pod(ns, name, uid, node, ip string, hostNet bool, cs ...corev1.Container) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: typesUID(uid)},
		Spec: corev1.PodSpec{NodeName: node, HostNetwork: hostNet, Containers: cs},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	if ip != "" {
		p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	return p
}

// container builds a container with ports "proto/containerPort[:hostPort[@hostIP]]".
func container(name string, ports ...corev1.ContainerPort) corev1.Container {
	return corev1.Container{Name: name, Ports: ports}
}

func tcpPort(cport, hport int32) corev1.ContainerPort {
	return corev1.ContainerPort{Protocol: corev1.ProtocolTCP, ContainerPort: cport, HostPort: hport}
}

// findingSet summarises findings as "id kind ns/name".
func findingSet(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, string(f.ID)+" "+f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name)
	}
	return out
}

// reconcileCase runs Reconcile for a ruleset of testdata on the lab node.
type reconcileCase struct {
	name  string
	rules string
	// rulesEdit changes the ruleset text before parsing.
	rulesEdit func(string) string
	edits     []edit
	listeners []exposure.Listener
	// inv replaces the recorded objects; node, env and iface the lab node.
	inv   func(testing.TB) *Inventory
	node  string
	env   *nf.Env
	iface string
	want  []string
	// evidence: a finding id → a substring one of its evidence lines holds.
	evidence map[FindingID]string
}

func runReconcile(t *testing.T, tc reconcileCase) (*Result, *exposure.Report) {
	t.Helper()
	load, node, env, iface := corpusInventory, "kp-node", labEnv(), "eth0"
	if tc.inv != nil {
		load, node, env, iface = tc.inv, tc.node, tc.env, tc.iface
	}
	inv := load(t)
	for _, e := range tc.edits {
		e(inv)
	}
	rs := loadRules(t, tc.rules, tc.rulesEdit)
	rep := analyze(t, rs, env, iface, tc.listeners)
	res, err := Reconcile(Input{Inventory: inv, Node: node, Report: rep, Ruleset: rs, Listeners: tc.listeners, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return res, rep
}

func checkFindings(t *testing.T, tc reconcileCase, res *Result) {
	t.Helper()
	if diff := cmp.Diff(tc.want, findingSet(res.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for id, sub := range tc.evidence {
		found := false
		for _, f := range res.Findings {
			if f.ID == id && slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, sub) }) {
				found = true
			}
		}
		if !found {
			t.Errorf("got no %s finding with evidence containing %q, want one (findings %+v)", id, sub, res.Findings)
		}
	}
}

const (
	ipt01     = "iptables-mode/01-synced.iptables-save.txt"
	ipt04     = "iptables-mode/04-after-delete-svc-nodeport.iptables-save.txt"
	ipt06     = "iptables-mode/06-after-cleanup.iptables-save.txt"
	nft01     = "nftables-mode/01-synced.nft-list-ruleset.txt"
	nft04     = "nftables-mode/04-after-delete-svc-nodeport.nft-list-ruleset.txt"
	nft07     = "nftables-mode/07-after-recreate-svc-nodeport.nft-list-ruleset.txt"
	allIfaces = "nodeport-on-all-interfaces Node /kp-node"
	lbRanges  = "source-ranges-bypassed Service default/svc-lb"
)

// TestReconcileKubeProxy: the recorded objects against what the real
// kube-proxy programmed at each step, and against edited objects.
func TestReconcileKubeProxy(t *testing.T) {
	tests := []reconcileCase{
		{name: "iptables synced", rules: ipt01, want: []string{allIfaces, lbRanges},
			evidence: map[FindingID]string{SourceRangesBypassed: "nodePort tcp 192.0.2.2:30081 on eth0 forwarded from 0.0.0.0/1", NodePortOnAllInterfaces: "--dst-type LOCAL -j KUBE-NODEPORTS"}},
		{name: "iptables Service deleted, rules left", rules: ipt01, edits: []edit{deleteService("svc-nodeport")},
			want:     []string{allIfaces, lbRanges, "stale-service-rules Service default/svc-nodeport"},
			evidence: map[FindingID]string{StaleServiceRules: "default/svc-nodeport:http: KUBE-SEP-"}},
		{name: "iptables rules deleted, Service left (step 04 with the step 01 objects)", rules: ipt04,
			want:     []string{allIfaces, "service-not-programmed Service default/svc-nodeport", lbRanges},
			evidence: map[FindingID]string{ServiceNotProgrammed: "nodePort tcp/30080 (port http, 2 ready endpoints): no DNAT"}},
		{name: "iptables step 04 with its objects", rules: ipt04, edits: []edit{deleteService("svc-nodeport")}, want: []string{allIfaces, lbRanges}},
		{name: "iptables after kube-proxy --cleanup", rules: ipt06, want: []string{
			"service-not-programmed Service default/svc-extip", "service-not-programmed Service default/svc-lb",
			"service-not-programmed Service default/svc-local", "service-not-programmed Service default/svc-nodeport"},
			evidence: map[FindingID]string{ServiceNotProgrammed: "loadBalancer tcp 203.0.113.51:80 (port http, 1 ready endpoint)"}},
		{name: "iptables nat table flushed (filter rules still name the Services)", rules: ipt01, rulesEdit: flushNAT, want: []string{
			"service-not-programmed Service default/svc-extip", "service-not-programmed Service default/svc-lb",
			"service-not-programmed Service default/svc-local", "service-not-programmed Service default/svc-nodeport"}},
		{name: "iptables endpoint moved", rules: ipt01, edits: []edit{editSlice("svc-extip", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[1].Addresses = []string{"198.51.100.14"}
		})}, want: []string{"endpoints-mismatch Service default/svc-extip", allIfaces, lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "missing endpoint 198.51.100.14:8080"}},
		{name: "iptables endpoint port changed", rules: ipt01, edits: []edit{editSlice("svc-udp", func(s *discoveryv1.EndpointSlice) {
			p := int32(5354)
			s.Ports[0].Port = &p
		})}, want: []string{"endpoints-mismatch Service default/svc-udp", allIfaces, lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "wrong port: KUBE-SEP-XGJHT5LXKPF2FQQV DNATs to 198.51.100.12:5353, the EndpointSlice says 198.51.100.12:5354"}},
		{name: "iptables endpoints no longer ready", rules: ipt01, edits: []edit{editSlice("svc-nodeport", func(s *discoveryv1.EndpointSlice) {
			f := false
			for i := range s.Endpoints {
				s.Endpoints[i].Conditions.Ready = &f
			}
		})}, want: []string{"endpoints-mismatch Service default/svc-nodeport", allIfaces, lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "extra DNAT to 198.51.100.11:8080"}},
		{name: "iptables Local endpoint moved to another node", rules: ipt01, edits: []edit{editSlice("svc-local", func(s *discoveryv1.EndpointSlice) {
			other := "kp-other"
			s.Endpoints[0].NodeName = &other
		})}, want: []string{"endpoints-mismatch Service default/svc-local", allIfaces, lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "local path extra DNAT to 198.51.100.11:8080"}},
		{name: "iptables large cluster mode (no per-endpoint comments), endpoint moved", rules: ipt01, rulesEdit: dropEndpointComments,
			edits: []edit{editSlice("svc-extip", func(s *discoveryv1.EndpointSlice) {
				s.Endpoints[1].Addresses = []string{"198.51.100.14"}
			})}, want: []string{"endpoints-mismatch Service default/svc-extip", allIfaces, lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "extra DNAT to 198.51.100.13:8080 (KUBE-SEP-XE4F2TPVOOZRIR3L)"}},
		{name: "iptables large cluster mode, synced", rules: ipt01, rulesEdit: dropEndpointComments, want: []string{allIfaces, lbRanges}},
		{name: "nftables synced", rules: nft01, want: []string{lbRanges}},
		{name: "nftables Service deleted, rules left", rules: nft01, edits: []edit{deleteService("svc-nodeport")},
			want:     []string{lbRanges, "stale-service-rules Service default/svc-nodeport"},
			evidence: map[FindingID]string{StaleServiceRules: "default/svc-nodeport:http: endpoint-2DE5EGH6-default/svc-nodeport/tcp/http__198.51.100.11/8080"}},
		{name: "nftables step 04 (flushed chains are not rules)", rules: nft04, edits: []edit{deleteService("svc-nodeport")}, want: []string{lbRanges}},
		{name: "nftables step 04 with the step 01 objects", rules: nft04,
			want: []string{"service-not-programmed Service default/svc-nodeport", lbRanges}},
		{name: "nftables Local endpoint moved to another node", rules: nft01, edits: []edit{editSlice("svc-local", func(s *discoveryv1.EndpointSlice) {
			other := "kp-other"
			s.Endpoints[0].NodeName = &other
		})}, want: []string{"endpoints-mismatch Service default/svc-local", lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "local path extra DNAT to 198.51.100.11:8080 (local-YFNJHNZX-default/svc-local/tcp/http)"}},
		{name: "nftables endpoint moved", rules: nft01, edits: []edit{editSlice("svc-extip", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[1].Addresses = []string{"198.51.100.14"}
		})}, want: []string{"endpoints-mismatch Service default/svc-extip", lbRanges},
			evidence: map[FindingID]string{EndpointsMismatch: "missing endpoint 198.51.100.14:8080"}},
		{name: "nftables step 07 (re-created)", rules: nft07, want: []string{lbRanges}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runReconcile(t, tc)
			checkFindings(t, tc, res)
		})
	}
}

// dropEndpointComments removes the comments kube-proxy leaves out in
// large cluster mode (more than 1000 endpoints): those of KUBE-SEP-* rules
// and of the KUBE-SVC-/KUBE-SVL- jumps to them.
func dropEndpointComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "-A KUBE-SEP-") || strings.HasPrefix(line, "-A KUBE-SV") && strings.Contains(line, " -> ") {
			if i := strings.Index(line, "-m comment --comment \""); i >= 0 {
				if j := strings.Index(line[i+len("-m comment --comment \""):], "\""); j >= 0 {
					line = line[:i] + line[i+len("-m comment --comment \"")+j+2:]
				}
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestJoinServiceWithoutEndpoints: kube-proxy's nftables mode rejects a
// NodePort without endpoints through @no-endpoint-nodeports, whose rule
// names no Service; the join names it by its nodePort.
func TestJoinServiceWithoutEndpoints(t *testing.T) {
	tc := reconcileCase{rules: nft01, rulesEdit: func(s string) string {
		return strings.Replace(s, `comment "vmap to drop or reject packets to service nodeports with no endpoints"`,
			`comment "vmap to drop or reject packets to service nodeports with no endpoints"
		elements = { tcp . 30083 comment "default/svc-empty:http" : goto reject-chain }`, 1)
	}, edits: []edit{func(inv *Inventory) {
		s := inv.Services[0]
		s.Name, s.Spec.Type = "svc-empty", corev1.ServiceTypeNodePort
		s.Spec.Ports = []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: 30083}}
		inv.Services = append(inv.Services, s)
	}}, want: []string{lbRanges}}
	res, rep := runReconcile(t, tc)
	checkFindings(t, tc, res)
	found := false
	for _, e := range rep.Exposures {
		if e.Addr == "192.0.2.2" && e.Proto == "tcp" && e.PortFrom == 30083 && e.PortTo == 30083 {
			found = true
			if got := exposure.ObjectText(e.Owner) + " " + string(e.Owner.Via) + " " + e.State; got != "default/svc-empty:http nodePort filtered" {
				t.Errorf("got 192.0.2.2:30083 %q, want default/svc-empty:http nodePort filtered (reject: ICMP port unreachable)", got)
			}
		}
	}
	if !found {
		t.Error("got no single-port exposure at 192.0.2.2:30083, want the rejected NodePort")
	}
}

// flushNAT is `iptables -t nat -F` on an iptables-save text: the nat
// table's rules go, its chains stay.
func flushNAT(s string) string {
	var out []string
	nat := false
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			nat = line == "*nat"
		case nat && strings.HasPrefix(line, "-A "):
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
