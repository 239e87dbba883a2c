package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/k8slab"
	"github.com/exposure-audit/exposure/kube"
	"github.com/exposure-audit/exposure/report"
)

// The Kubernetes lab tests run a real etcd, kube-apiserver and kube-proxy
// (internal/k8slab), create Services and EndpointSlices pointing at pod
// namespaces with real listeners, and run the built `exposure audit` live
// in the node namespace with the kubeconfig.

func TestMain(m *testing.M) {
	code := k8slab.Main(m)
	removeBuiltBinary()
	os.Exit(code)
}

// Addresses outside every subnet of the lab that the client routes through
// the node: an externalIP and two LoadBalancer ingress IPs.
var (
	k8sExternalIP = netip.MustParseAddr("203.0.113.30")
	k8sLBIP       = netip.MustParseAddr("203.0.113.20")
	k8sLocalLBIP  = netip.MustParseAddr("203.0.113.21")
)

// Ports the pods serve.
const (
	podTCPPort = 8080
	podUDPPort = 5353
)

// k8sScenario is one node with kube-proxy and the Services of the test.
type k8sScenario struct {
	mode  k8slab.ProxyMode
	c     *k8slab.Cluster
	topo  *k8slab.Topology
	objs  *k8slab.Objects
	proxy *k8slab.Proxy
	node  string
	// svcs are the Services as the API stored them, by name.
	svcs map[string]*corev1.Service
	// serving lists the pod addresses that serve each Service's external
	// traffic from this node: every ready endpoint, or only the node's own
	// under externalTrafficPolicy Local.
	serving map[string][]string
}

// newK8sScenario builds the topology, the Node, pods with listeners and the
// Services, then starts kube-proxy.
func newK8sScenario(t *testing.T, mode k8slab.ProxyMode) *k8sScenario {
	c := k8slab.Shared(t)
	s := &k8sScenario{mode: mode, c: c, topo: k8slab.NewTopology(t, 3),
		svcs: map[string]*corev1.Service{}, serving: map[string][]string{}}
	s.objs = k8slab.NewObjects(t, c)
	s.node = s.topo.Prefix + "node"
	s.objs.Node(s.node, k8slab.NodeIP)
	for _, p := range s.topo.Pods {
		if err := p.ServeTCP(podTCPPort); err != nil {
			t.Fatal(err)
		}
		if err := p.ServeUDP(podUDPPort); err != nil {
			t.Fatal(err)
		}
	}
	for _, svc := range k8sServices() {
		s.addService(svc)
	}
	s.proxy = s.topo.StartProxy(t, c, mode, s.node)
	return s
}

// k8sService is a Service of the scenario and the pods behind it.
type k8sService struct {
	svc  *corev1.Service
	pods []int // indexes into topo.Pods
	// remote pods are declared on another node.
	remote []int
}

func tcpPort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(podTCPPort), Protocol: corev1.ProtocolTCP}
}

func service(name string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{Type: typ, Ports: ports}}
}

// k8sServices are the Services every scenario starts with.
func k8sServices() []k8sService {
	internal := service("internal", corev1.ServiceTypeClusterIP, tcpPort("http", 80))
	web := service("web", corev1.ServiceTypeNodePort, tcpPort("http", 80))
	dns := service("dns", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 53, TargetPort: intstr.FromInt32(podUDPPort), Protocol: corev1.ProtocolUDP})
	lb := service("lb", corev1.ServiceTypeLoadBalancer, tcpPort("https", 443))
	lb.Spec.LoadBalancerSourceRanges = []string{k8slab.ClientAltIP.String() + "/32"}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: k8sLBIP.String()}}
	ext := service("ext", corev1.ServiceTypeClusterIP, tcpPort("web", 8000))
	ext.Spec.ExternalIPs = []string{k8sExternalIP.String()}
	local := service("local", corev1.ServiceTypeLoadBalancer, tcpPort("http", 80))
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	local.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: k8sLocalLBIP.String()}}
	empty := service("empty", corev1.ServiceTypeNodePort, tcpPort("http", 80))
	return []k8sService{
		{svc: internal, pods: []int{0}},
		{svc: web, pods: []int{0, 1}},
		{svc: dns, pods: []int{0, 1}},
		{svc: lb, pods: []int{1}},
		{svc: ext, pods: []int{2}},
		{svc: local, pods: []int{0}, remote: []int{2}},
		{svc: empty},
	}
}

// addService creates the Service and its EndpointSlice.
func (s *k8sScenario) addService(ks k8sService) {
	got := s.objs.Service(ks.svc)
	var eps []k8slab.Endpoint
	for _, i := range ks.pods {
		eps = append(eps, k8slab.Endpoint{IP: s.topo.Pods[i].IP, Node: s.node})
	}
	for _, i := range ks.remote {
		eps = append(eps, k8slab.Endpoint{IP: s.topo.Pods[i].IP, Node: "elsewhere"})
	}
	if len(eps) > 0 {
		s.objs.EndpointSlice(got, eps...)
	}
	s.svcs[got.Name] = got
	serving := ks.pods
	if got.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		serving = append(slices.Clone(ks.pods), ks.remote...)
	}
	s.serving[got.Name] = nil
	for _, i := range serving {
		s.serving[got.Name] = append(s.serving[got.Name], s.topo.Pods[i].IP.String())
	}
	slices.Sort(s.serving[got.Name])
}

// audit runs `exposure audit` live in the node namespace.
func (s *k8sScenario) audit(t *testing.T, args ...string) (string, error) {
	argv := append([]string{"nsenter", "--net=/run/netns/" + s.topo.Node, "--", exposureBinary(t), "audit"}, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("audit %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// k8sAuditReport is the JSON of `exposure audit` with the cluster joined.
type k8sAuditReport struct {
	Exposures []exposure.Exposure `json:"exposures"`
	Findings  []kube.Finding      `json:"findings"`
}

// auditAddrs are the addresses the audit analyses: the node IP the client
// reaches and the externalIP and LoadBalancer IPs routed to the node.
func auditAddrs() []netip.Addr {
	return []netip.Addr{k8slab.NodeIP, k8sExternalIP, k8sLBIP, k8sLocalLBIP}
}

// runAudit audits the node live, joined with the API server.
func (s *k8sScenario) runAudit(t *testing.T) *k8sAuditReport {
	var addrs []string
	for _, a := range auditAddrs() {
		addrs = append(addrs, a.String())
	}
	out, err := s.audit(t, "--kubeconfig", s.c.Kubeconfig, "--context", "lab", "--node", s.node, "-i", k8slab.NodeClientIface,
		"--addr", strings.Join(addrs, ","), "--proto", "tcp,udp", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep k8sAuditReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("parse audit JSON: %v", err)
	}
	return &rep
}

// declared is one port a Service declares exposed on the node.
type declared struct {
	proto string
	addr  netip.Addr
	port  int
	owner exposure.Owner // Kind, Namespace, Name, Port, Via
}

func (d declared) String() string {
	return fmt.Sprintf("%s %s:%d (%s/%s %s)", d.proto, d.addr, d.port, d.owner.Namespace, d.owner.Name, d.owner.Via)
}

// declaredPorts lists what the scenario's Services declare: NodePorts on
// the node IP, externalIPs, LoadBalancer ingress IPs and health-check
// NodePorts, read from the objects as the API server stored them.
func (s *k8sScenario) declaredPorts() []declared {
	var out []declared
	for _, svc := range s.svcs {
		own := func(p corev1.ServicePort, via exposure.Via) exposure.Owner {
			name := p.Name
			if name == "" {
				name = strconv.Itoa(int(p.Port))
			}
			return exposure.Owner{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, Port: name, Via: via}
		}
		for _, p := range svc.Spec.Ports {
			proto := strings.ToLower(string(p.Protocol))
			if p.NodePort != 0 {
				out = append(out, declared{proto, k8slab.NodeIP, int(p.NodePort), own(p, exposure.ViaNodePort)})
			}
			for _, ip := range svc.Spec.ExternalIPs {
				out = append(out, declared{proto, netip.MustParseAddr(ip), int(p.Port), own(p, exposure.ViaExternalIP)})
			}
			for _, ing := range svc.Status.LoadBalancer.Ingress {
				out = append(out, declared{proto, netip.MustParseAddr(ing.IP), int(p.Port), own(p, exposure.ViaLoadBalancer)})
			}
		}
		if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
			o := own(corev1.ServicePort{}, exposure.ViaHealthCheckNodePort)
			o.Port = "" // not one port's: the Service's
			out = append(out, declared{"tcp", k8slab.NodeIP, int(hc), o})
		}
	}
	slices.SortFunc(out, func(a, b declared) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// find returns the exposure of proto addr:port on the client link as seen
// from source src.
func (r *k8sAuditReport) find(proto string, addr netip.Addr, port int, src netip.Addr) (exposure.Exposure, bool) {
	for _, e := range r.Exposures {
		if e.Proto != proto || e.Addr != addr.String() || e.Iface != k8slab.NodeClientIface || port < e.PortFrom || port > e.PortTo {
			continue
		}
		for _, c := range e.Sources {
			if p, err := netip.ParsePrefix(c); err == nil && p.Contains(src) {
				return e, true
			}
		}
	}
	return exposure.Exposure{}, false
}

// ownerOf keeps the Kubernetes fields of an owner, the ones compared.
func ownerOf(o exposure.Owner, withPort bool) exposure.Owner {
	k := exposure.Owner{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Via: o.Via}
	if withPort {
		k.Port = o.Port
	}
	return k
}

// checkOwners: every declared port is in the audit and names its Service,
// the Service's port and how it is exposed; a forwarded one goes to the
// endpoints that serve it from this node.
func checkOwners(t *testing.T, s *k8sScenario, rep *k8sAuditReport) {
	t.Helper()
	for _, d := range s.declaredPorts() {
		e, ok := rep.find(d.proto, d.addr, d.port, k8slab.ClientIP)
		if !ok {
			t.Errorf("%v: not in the audit", d)
			continue
		}
		withPort := d.owner.Via != exposure.ViaHealthCheckNodePort
		if diff := cmp.Diff(ownerOf(d.owner, withPort), ownerOf(e.Owner, withPort)); diff != "" {
			t.Errorf("%v (%s): owner (-want +got):\n%s", d, e.State, diff)
		}
		if e.State != exposure.Forwarded {
			continue
		}
		var to []string
		for _, x := range e.To {
			to = append(to, x.Addr)
		}
		slices.Sort(to)
		if want := s.serving[d.owner.Name]; !slices.Equal(to, want) {
			t.Errorf("%v: forwarded to %v, want the serving endpoints %v", d, to, want)
		}
	}
}

// checkDeclared: `exposure k8s --node` lists exactly the ports the
// Services declare on the node, NodePorts on every address, with the count
// of endpoints serving them.
func checkDeclared(t *testing.T, s *k8sScenario) {
	t.Helper()
	out, err := exec.Command(exposureBinary(t), "k8s", "--kubeconfig", s.c.Kubeconfig, "--node", s.node, "-o", "json").Output()
	if err != nil {
		t.Fatalf("exposure k8s: %v", err)
	}
	var res report.Declared
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse exposure k8s JSON: %v", err)
	}
	var got, want []string
	key := func(proto, addr string, port int, via exposure.Via, ns, name, portName string, eps int) string {
		if via == exposure.ViaHealthCheckNodePort {
			portName, eps = "", 0 // the Service's, not one port's
		}
		return fmt.Sprintf("%s %s:%d %s %s/%s:%s endpoints=%d", proto, addr, port, via, ns, name, portName, eps)
	}
	for _, d := range res.Declared {
		if d.Object.Namespace == s.objs.Namespace {
			got = append(got, key(d.Proto, d.Addr, d.PortFrom, d.Via, d.Object.Namespace, d.Object.Name, d.Port, d.Endpoints))
		}
	}
	for _, d := range s.declaredPorts() {
		addr := d.addr.String()
		if d.owner.Via == exposure.ViaNodePort || d.owner.Via == exposure.ViaHealthCheckNodePort {
			addr = kube.AnyAddr
		}
		want = append(want, key(d.proto, addr, d.port, d.owner.Via, d.owner.Namespace, d.owner.Name, d.owner.Port, len(s.serving[d.owner.Name])))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exposure k8s --node %s (-want +got):\n%s", s.node, diff)
	}
}

// probeTimeout bounds one client connection; a dropped probe costs it.
const probeTimeout = 2 * time.Second

// checkConnections connects from both client addresses to every port of
// ports and checks the audit's state for that source against what
// happened: forwarded ports answer with the greeting of one of the audit's
// targets, open ones accept, closed and filtered ones fail.
func checkConnections(t *testing.T, s *k8sScenario, rep *k8sAuditReport, ports []declared) {
	t.Helper()
	n := 0
	for _, d := range ports {
		for _, src := range []netip.Addr{k8slab.ClientIP, k8slab.ClientAltIP} {
			e, ok := rep.find(d.proto, d.addr, d.port, src)
			if !ok {
				t.Errorf("%v from %s: not in the audit", d, src)
				continue
			}
			if len(e.Conditions) > 0 || (e.State == exposure.Forwarded && !s.served(e)) {
				continue // rests on an assumption, or routed beyond the lab
			}
			if msg := s.connect(d, src, e); msg != "" {
				t.Errorf("%v from %s: %s", d, src, msg)
			}
			n++
		}
	}
	t.Logf("%d client connections agree with the audit", n)
}

// connect tries d from src and says how it disagrees with e ("" if not).
func (s *k8sScenario) connect(d declared, src netip.Addr, e exposure.Exposure) string {
	dst := netip.AddrPortFrom(d.addr, uint16(d.port))
	if e.State == exposure.Open {
		if d.proto != "tcp" {
			return ""
		}
		if err := s.topo.Connect(src, dst, probeTimeout); err != nil {
			return fmt.Sprintf("audit says open, connection failed: %v", err)
		}
		return ""
	}
	reply, err := s.topo.Hello(src, d.proto, dst, probeTimeout)
	if e.State != exposure.Forwarded {
		if err == nil {
			return fmt.Sprintf("audit says %s, but %q answered", e.State, reply)
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("audit says forwarded to %v, connection failed: %v", e.To, err)
	}
	var want []string
	for _, to := range e.To {
		for _, p := range s.topo.Pods {
			if p.IP.String() == to.Addr {
				want = append(want, k8slab.Greeting(p.Name, to.Port))
			}
		}
	}
	if !slices.Contains(want, reply) {
		return fmt.Sprintf("answered by %q, audit says forwarded to %v", reply, e.To)
	}
	return ""
}

// nmapView is what nmap should report for e, or "" when e rests on a
// condition or forwards somewhere the lab does not serve: forwarded ports
// reach a pod listener, which answers.
func (s *k8sScenario) nmapView(e exposure.Exposure) string {
	if len(e.Conditions) > 0 {
		return ""
	}
	if e.State != exposure.Forwarded {
		return e.State
	}
	if !s.served(e) {
		return ""
	}
	return exposure.Open
}

// served reports whether every target of a forwarded e is a pod listener
// of the lab (TCP podTCPPort, UDP podUDPPort).
func (s *k8sScenario) served(e exposure.Exposure) bool {
	port := podTCPPort
	if e.Proto == "udp" {
		port = podUDPPort
	}
	for _, to := range e.To {
		if to.Port != port || !slices.ContainsFunc(s.topo.Pods, func(p *k8slab.Pod) bool { return p.IP.String() == to.Addr }) {
			return false
		}
	}
	return len(e.To) > 0
}

// checkNmap compares the audit with a SYN scan from the client's first
// address: every TCP port of the node IP, and of the externalIP and
// LoadBalancer IPs the declared ports and a few others.
func checkNmap(t *testing.T, s *k8sScenario, rep *k8sAuditReport) {
	t.Helper()
	sample := map[netip.Addr][]int{}
	for _, d := range s.declaredPorts() {
		if d.proto == "tcp" && d.addr != k8slab.NodeIP {
			sample[d.addr] = append(sample[d.addr], d.port)
		}
	}
	n := 0
	for _, addr := range auditAddrs() {
		ports := "-"
		if addr != k8slab.NodeIP {
			list := append(sample[addr], 22, 80, 443, 8000, 8080)
			slices.Sort(list)
			ports = strings.Trim(strings.ReplaceAll(fmt.Sprint(slices.Compact(list)), " ", ","), "[]")
		}
		out, err := s.topo.Run(s.topo.Client, "nmap", "-sS", "-p"+ports, "-n", "-Pn", "-e", "eth0", "-S", k8slab.ClientIP.String(),
			"-g", "40000", "-T4", "--max-retries", "2", "--min-rate", "5000", "-oX", "-", addr.String())
		if err != nil {
			t.Fatalf("nmap: %v", err)
		}
		for p, got := range parseNmapPorts(t, out) {
			e, ok := rep.find("tcp", addr, p, k8slab.ClientIP)
			if !ok {
				t.Errorf("tcp %s:%d: nmap says %s, not in the audit", addr, p, got)
				continue
			}
			want := s.nmapView(e)
			if want == "" {
				continue
			}
			if got != want {
				t.Errorf("tcp %s:%d: nmap says %q, exposure says %q (%s, owner %s/%s)", addr, p, got, want, e.State, e.Owner.Namespace, e.Owner.Name)
			}
			n++
		}
	}
	t.Logf("%d TCP ports agree with nmap", n)
}

// findingKey is what identifies a finding: its id and its object.
type findingKey struct{ ID, Kind, Namespace, Name string }

func (k findingKey) String() string { return k.ID + " " + k.Kind + " " + k.Namespace + "/" + k.Name }

// checkFindings: the audit reports exactly want, each for its object.
func checkFindings(t *testing.T, rep *k8sAuditReport, want []findingKey) {
	t.Helper()
	var got []findingKey
	for _, f := range rep.Findings {
		got = append(got, findingKey{string(f.ID), f.Object.Kind, f.Object.Namespace, f.Object.Name})
	}
	sortKeys := func(k []findingKey) {
		slices.SortFunc(k, func(a, b findingKey) int { return strings.Compare(a.String(), b.String()) })
	}
	sortKeys(got)
	sortKeys(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, f := range rep.Findings {
			t.Logf("finding %s %s/%s: %s %v", f.ID, f.Object.Namespace, f.Object.Name, f.Message, f.Evidence)
		}
	}
}

func TestK8sLabAudit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, kube-proxy, nmap -sS")
	}
	k8slab.Shared(t) // skips without the binaries, fails when EXPOSURE_K8S_REQUIRED=1
	if _, err := exec.LookPath("nmap"); err != nil {
		if k8slab.Required() {
			t.Fatal("needs nmap: " + err.Error())
		}
		t.Skip("needs nmap: " + err.Error())
	}
	for _, mode := range []k8slab.ProxyMode{k8slab.IPTables, k8slab.NFTables} {
		t.Run(string(mode), func(t *testing.T) { k8sLabAudit(t, mode) })
	}
}

// k8sLabAudit runs the three phases of one proxy mode: kube-proxy in sync;
// kube-proxy down while a Service is deleted and another created; the NAT
// rules flushed.
func k8sLabAudit(t *testing.T, mode k8slab.ProxyMode) {
	s := newK8sScenario(t, mode)
	svc := func(id kube.FindingID, name string) findingKey {
		return findingKey{string(id), "Service", s.objs.Namespace, name}
	}
	nodeWide := func(id kube.FindingID) findingKey { return findingKey{string(id), "Node", "", s.node} }

	start := time.Now()
	rep := s.runAudit(t)
	t.Logf("audit took %v", time.Since(start))
	checkDeclared(t, s)
	checkOwners(t, s, rep)
	checkConnections(t, s, rep, s.declaredPorts())
	checkNmap(t, s, rep)
	// The LoadBalancer's source ranges guard its ingress IP, not its
	// NodePort; iptables mode accepts NodePorts on every local address.
	want := []findingKey{svc(kube.SourceRangesBypassed, "lb")}
	if mode == k8slab.IPTables {
		want = append(want, nodeWide(kube.NodePortOnAllInterfaces))
	}
	checkFindings(t, rep, want)

	// kube-proxy down: the cluster moves on without the node.
	if err := s.proxy.Stop(); err != nil {
		t.Fatal(err)
	}
	before := s.declaredPorts()
	s.objs.DeleteService("ext")
	delete(s.svcs, "ext")
	s.addService(k8sService{svc: service("fresh", corev1.ServiceTypeNodePort, tcpPort("http", 80)), pods: []int{2}})
	rep = s.runAudit(t)
	checkConnections(t, s, rep, union(before, s.declaredPorts()))
	want = append(want, svc(kube.ServiceNotProgrammed, "fresh"), svc(kube.StaleServiceRules, "ext"))
	checkFindings(t, rep, want)

	// The NAT rules flushed (an iptables.service restore, a firewall
	// reload): every NodePort, externalIP and LoadBalancer Service with
	// endpoints loses its path, the deleted Service's rules go too.
	s.flushNAT(t)
	rep = s.runAudit(t)
	checkConnections(t, s, rep, s.declaredPorts())
	want = nil
	for _, name := range []string{"web", "dns", "lb", "local", "fresh"} {
		want = append(want, svc(kube.ServiceNotProgrammed, name))
	}
	checkFindings(t, rep, want)
}

// flushNAT removes kube-proxy's NAT rules: iptables mode flushes the nat
// table; nftables mode, where NAT and filter share kube-proxy's own table,
// flushes that table's chains and then its sets and maps ("nft flush
// table" leaves their elements), so that, as after "iptables -t nat -F",
// empty chains remain and no rule.
func (s *k8sScenario) flushNAT(t *testing.T) {
	t.Helper()
	if s.mode == k8slab.IPTables {
		if _, err := s.topo.Run(s.topo.Node, "iptables", "-t", "nat", "-F"); err != nil {
			t.Fatal(err)
		}
		return
	}
	script := "flush table ip kube-proxy\n"
	out, err := s.topo.Run(s.topo.Node, "nft", "-j", "list", "table", "ip", "kube-proxy")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nftables []map[string]struct {
			Name string `json:"name"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("parse nft -j: %v", err)
	}
	for _, obj := range doc.Nftables {
		for _, kind := range []string{"set", "map"} {
			if o, ok := obj[kind]; ok {
				script += fmt.Sprintf("flush %s ip kube-proxy %s\n", kind, o.Name)
			}
		}
	}
	if _, err := s.topo.RunInput(s.topo.Node, script, "nft", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// union returns a and the elements of b not in a.
func union(a, b []declared) []declared {
	out := slices.Clone(a)
	for _, d := range b {
		if !slices.ContainsFunc(out, func(o declared) bool { return o.String() == d.String() }) {
			out = append(out, d)
		}
	}
	return out
}
