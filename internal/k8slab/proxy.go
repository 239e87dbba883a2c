package k8slab

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// ProxyMode is kube-proxy's --proxy-mode.
type ProxyMode string

// The two modes the lab runs.
const (
	IPTables ProxyMode = "iptables"
	NFTables ProxyMode = "nftables"
)

// Proxy is a kube-proxy running in the node namespace.
type Proxy struct {
	Mode ProxyMode
	// Log is the path of its log (stdout and stderr, --v=2).
	Log     string
	p       *proc
	stopped bool
}

// syncTimeout bounds kube-proxy's start-up to its first full sync of both
// families (about 1 s measured).
const syncTimeout = 60 * time.Second

// StartProxy runs kube-proxy for node nodeName (a Node object that must
// exist, with its addresses) inside the node namespace, with the cluster's
// kubeconfig through a Bridge, and waits for its first sync of both IP
// families. extra flags are appended. It is stopped by tb.Cleanup, before
// the namespaces go; its rules stay until then.
func (t *Topology) StartProxy(tb testing.TB, c *Cluster, mode ProxyMode, nodeName string, extra ...string) *Proxy {
	tb.Helper()
	if !t.bridged {
		if err := t.Bridge(c, t.Node); err != nil {
			tb.Fatal(err)
		}
		t.bridged = true
	}
	log := filepath.Join(tb.TempDir(), "kube-proxy-"+string(mode)+".log")
	argv := []string{"nsenter", "--net=" + nsPath(t.Node), "--", Need(tb).Proxy,
		"--proxy-mode=" + string(mode), "--hostname-override=" + nodeName, "--kubeconfig=" + c.Kubeconfig,
		"--cluster-cidr=" + ClusterCIDR, "--conntrack-max-per-core=0", "--v=2"}
	p, err := startProc("kube-proxy", log, append(argv, extra...)...)
	if err != nil {
		tb.Fatal(err)
	}
	kp := &Proxy{Mode: mode, Log: log, p: p}
	tb.Cleanup(func() {
		if err := kp.Stop(); err != nil {
			tb.Errorf("%v", err)
		}
	})
	if err := kp.WaitSync(0); err != nil {
		tb.Fatal(err)
	}
	return kp
}

// syncRE matches the line kube-proxy logs at the end of every sync, with
// its IP family.
var syncRE = regexp.MustCompile(`"SyncProxyRules complete".*ipFamily="(IPv[46])"`)

// Syncs returns how many syncs of each family ("IPv4", "IPv6") the log
// shows so far.
func (kp *Proxy) Syncs() map[string]int {
	data, _ := os.ReadFile(kp.Log)
	n := map[string]int{}
	for _, m := range syncRE.FindAllSubmatch(data, -1) {
		n[string(m[1])]++
	}
	return n
}

// WaitSync waits until both families have synced more than after times
// each: WaitSync(0) for the first sync; WaitSync(n) after an API change,
// with n taken from Syncs before it (kube-proxy syncs at most once per
// --iptables-min-sync-period, 1 s by default).
func (kp *Proxy) WaitSync(after int) error {
	return kp.p.waitFor(fmt.Sprintf("kube-proxy sync #%d of IPv4 and IPv6", after+1), syncTimeout, func() error {
		n := kp.Syncs()
		if n["IPv4"] > after && n["IPv6"] > after {
			return nil
		}
		return fmt.Errorf("syncs so far: %v", n)
	})
}

// Stop ends kube-proxy (SIGTERM). Its rules stay in the node namespace.
func (kp *Proxy) Stop() error {
	if kp.p.exited() && kp.stopped {
		return nil
	}
	kp.stopped = true
	return kp.p.stop(15 * time.Second)
}
