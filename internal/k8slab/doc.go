// Package k8slab runs real Kubernetes parts for end-to-end tests: an etcd and
// a kube-apiserver on loopback ports of the test's own network namespace, a
// small node/client/uplink/pod namespace topology with real listeners in the
// pods, and kube-proxy (iptables or nftables mode) inside the node namespace
// against that API server. It is test support: nothing outside _test files
// imports it.
//
// # Binaries
//
// kube-apiserver and kube-proxy are built from the Go module proxy by
// scripts/k8s-bins (pinned to Version) into a cache outside the repository;
// etcd is Debian's etcd-server. Find looks in $EXPOSURE_K8S_BIN, then in the
// cache, and runs scripts/k8s-bins only when $EXPOSURE_K8S_REQUIRED=1 (CI):
// a cold build takes 5–10 minutes. Without the binaries tests skip with a
// message saying how to get them, or fail when they are required.
//
// # API server
//
// One API server per test binary: Shared starts it on first use and Main
// (called from TestMain) stops it. etcd listens on two free loopback ports
// with its data in a temporary directory; kube-apiserver serves HTTPS on a
// free loopback port with a static bearer token of group system:masters,
// RBAC, the Service range 10.0.0.0/16 and the ServiceAccount admission
// plugin disabled (there is no controller-manager to create the default
// ServiceAccount). The kubeconfig names its CA by absolute path. There is no
// controller-manager, scheduler or kubelet: Nodes, Node addresses, Load
// Balancer ingress and EndpointSlices are created by the tests themselves
// (Objects), and namespaces never finish deleting, so every test gets a new
// one.
//
// # Topology
//
// NewTopology builds, with unique names "expo-k8s-<pid>-<rand>-<role>":
//
//	client (192.0.2.1 and 192.0.2.5/24) ── eth0 node 192.0.2.2/24
//	                                        eth1 203.0.113.253/30 ── uplink 203.0.113.254 (default route)
//	                                        vpN  198.51.100.1/32  ── pod N 198.51.100.(10+N)/32
//
// The node routes (forwarding on); rp_filter and ICMP redirects are off in
// every namespace, set explicitly because new namespaces copy the host's
// IPv4 defaults. The uplink gives the node a default route without
// forwarding anything back (a node without one fails connect() to
// ClusterIPs before netfilter sees the packet). The client routes
// everything else through the node, so externalIPs and LoadBalancer
// ingress addresses outside its subnet reach kube-proxy's PREROUTING rules.
// Pods serve real TCP and UDP listeners that answer with their name and
// port, so a client can tell which endpoint it reached.
//
// The API server stays on the root namespace's loopback; Bridge opens the
// same address:port on the node's loopback and relays each connection to
// it, so the one kubeconfig (and its certificate's 127.0.0.1 SAN) works for
// kube-proxy and `exposure audit` inside the node namespace.
//
// # kube-proxy
//
// StartProxy runs kube-proxy with nsenter --net (ip netns exec would remount
// /sys) and --conntrack-max-per-core=0 (leave the host-wide conntrack limits
// alone), and waits until both IP families report "SyncProxyRules
// complete". kube-proxy leaves its rules behind when stopped; they live in
// the node namespace and go with it.
//
// Processes are started from one locked OS thread with PR_SET_PDEATHSIG, so
// that a test binary killed by a timeout takes etcd, kube-apiserver and
// kube-proxy with it; namespaces are deleted by t.Cleanup.
package k8slab
