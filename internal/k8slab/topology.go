package k8slab

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
)

// Addresses of the topology (see the package documentation).
var (
	// NodeIP is the node's address on the client link, its InternalIP.
	NodeIP = netip.MustParseAddr("192.0.2.2")
	// ClientIP and ClientAltIP are the client's two addresses, to test
	// source ranges from a source inside and one outside.
	ClientIP    = netip.MustParseAddr("192.0.2.1")
	ClientAltIP = netip.MustParseAddr("192.0.2.5")
	// NodeUplinkIP is the node's address towards the uplink, its second
	// local address; UplinkIP the node's default gateway.
	NodeUplinkIP = netip.MustParseAddr("203.0.113.253")
	UplinkIP     = netip.MustParseAddr("203.0.113.254")
	// PodGateway is the node's address on every pod veth.
	PodGateway = netip.MustParseAddr("198.51.100.1")
)

// ClusterCIDR is the pod range (kube-proxy's --cluster-cidr); pod N has
// 198.51.100.(10+N).
const ClusterCIDR = "198.51.100.0/24"

// Interface names in the node namespace.
const (
	NodeClientIface = "eth0"
	NodeUplinkIface = "eth1"
)

// Topology is a node namespace with a client, an uplink and pods around it.
type Topology struct {
	// Prefix is the common prefix of the namespace names.
	Prefix string
	// Namespace names, as "ip netns" lists them.
	Node, Client, Uplink string
	// Pods are the pod namespaces, in order.
	Pods []*Pod

	tb      testing.TB
	bridged bool
	mu      sync.Mutex
	closers []io.Closer
}

// Pod is one pod namespace behind a veth of the node.
type Pod struct {
	// Name is "pod1", "pod2"...; NS its namespace; Iface the node side of
	// its veth ("vp1"...).
	Name, NS, Iface string
	IP              netip.Addr
	topo            *Topology
}

// neededTools are the executables the topology and kube-proxy call.
var neededTools = []string{"ip", "nsenter", "sysctl", "iptables", "ip6tables", "nft"}

// NeedRoot skips tb unless it runs as root with the tools the topology
// needs (fails when Required).
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		if Required() {
			tb.Fatalf("kubernetes lab required (%s=1) but not root", EnvRequired)
		}
		tb.Skip("needs root: network namespaces, kube-proxy")
	}
	for _, t := range neededTools {
		if _, err := lookPath(t); err != nil {
			unavailable(tb, err)
		}
	}
}

// NewTopology builds the namespaces with pods pod namespaces; they are
// deleted by tb.Cleanup, with whatever rules kube-proxy left in them.
func NewTopology(tb testing.TB, pods int) *Topology {
	tb.Helper()
	NeedRoot(tb)
	t := &Topology{tb: tb, Prefix: fmt.Sprintf("expo-k8s-%d-%06x-", os.Getpid(), rand.Uint32()&0xffffff)}
	t.Node, t.Client, t.Uplink = t.Prefix+"node", t.Prefix+"client", t.Prefix+"uplink"
	for i := 1; i <= pods; i++ {
		t.Pods = append(t.Pods, &Pod{Name: fmt.Sprintf("pod%d", i), NS: fmt.Sprintf("%spod%d", t.Prefix, i),
			Iface: fmt.Sprintf("vp%d", i), IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}), topo: t})
	}
	tb.Cleanup(t.close)
	if err := t.build(); err != nil {
		tb.Fatalf("build topology: %v", err)
	}
	return t
}

// namespaces lists every namespace of the topology.
func (t *Topology) namespaces() []string {
	ns := []string{t.Node, t.Client, t.Uplink}
	for _, p := range t.Pods {
		ns = append(ns, p.NS)
	}
	return ns
}

// Sysctls set in every namespace: a new namespace copies some of the
// host's IPv4 settings, so none is left to chance. Only the node forwards.
var (
	baseSysctls = []string{
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
		"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
		"net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.default.accept_redirects=0",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0",
	}
	forwardOff = []string{"net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0"}
	forwardOn  = []string{"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"}
)

// build creates the namespaces, sets their sysctls and wires them.
func (t *Topology) build() error {
	for _, ns := range t.namespaces() {
		if _, err := execOutput("ip", "netns", "add", ns); err != nil {
			return err
		}
		fwd := forwardOff
		if ns == t.Node {
			fwd = forwardOn
		}
		argv := append(append([]string{"sysctl", "-q", "-w"}, baseSysctls...), fwd...)
		if _, err := nsRun(ns, argv...); err != nil {
			return err
		}
	}
	if err := t.veth("eth0", t.Client, NodeClientIface); err != nil {
		return err
	}
	if err := t.veth("eth0", t.Uplink, NodeUplinkIface); err != nil {
		return err
	}
	for _, p := range t.Pods {
		if err := t.veth("eth0", p.NS, p.Iface); err != nil {
			return err
		}
	}
	for ns, script := range t.scripts() {
		if _, err := execInput(script, "ip", "-n", ns, "-batch", "-"); err != nil {
			return fmt.Errorf("configure %s: %w", ns, err)
		}
	}
	return nil
}

// veth creates a pair: nodeName in the node, peerName in ns.
func (t *Topology) veth(peerName, ns, nodeName string) error {
	_, err := execOutput("ip", "link", "add", nodeName, "netns", t.Node, "type", "veth",
		"peer", "name", peerName, "netns", ns)
	return err
}

// scripts returns the "ip -batch" script of every namespace.
func (t *Topology) scripts() map[string]string {
	node := []string{"link set lo up",
		"address add " + NodeIP.String() + "/24 dev " + NodeClientIface, "link set " + NodeClientIface + " up",
		"address add " + NodeUplinkIP.String() + "/30 dev " + NodeUplinkIface, "link set " + NodeUplinkIface + " up",
		"route add default via " + UplinkIP.String()}
	s := map[string]string{
		t.Client: lines("link set lo up", "address add "+ClientIP.String()+"/24 dev eth0",
			"address add "+ClientAltIP.String()+"/24 dev eth0", "link set eth0 up",
			"route add default via "+NodeIP.String()),
		t.Uplink: lines("link set lo up", "address add "+UplinkIP.String()+"/30 dev eth0", "link set eth0 up"),
	}
	for _, p := range t.Pods {
		node = append(node, "address add "+PodGateway.String()+"/32 dev "+p.Iface, "link set "+p.Iface+" up",
			"route add "+p.IP.String()+"/32 dev "+p.Iface)
		s[p.NS] = lines("link set lo up", "address add "+p.IP.String()+"/32 dev eth0", "link set eth0 up",
			"route add "+PodGateway.String()+"/32 dev eth0", "route add default via "+PodGateway.String())
	}
	s[t.Node] = lines(node...)
	return s
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// Run runs argv in namespace ns (nsenter --net) and returns its stdout.
func (t *Topology) Run(ns string, argv ...string) (string, error) { return nsRun(ns, argv...) }

// RunInput is Run with stdin.
func (t *Topology) RunInput(ns, stdin string, argv ...string) (string, error) {
	return execInput(stdin, append([]string{"nsenter", "--net=" + nsPath(ns), "--"}, argv...)...)
}

// track registers c to be closed before the namespaces go.
func (t *Topology) track(c io.Closer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closers = append(t.closers, c)
}

// close closes the listeners and deletes the topology's namespaces, and
// only those.
func (t *Topology) close() {
	t.mu.Lock()
	cs := t.closers
	t.closers = nil
	t.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
	var errs []error
	for _, ns := range t.namespaces() {
		if _, err := os.Stat(nsPath(ns)); err != nil {
			continue
		}
		if _, err := execOutput("ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.tb.Errorf("delete topology: %v", err)
	}
}
