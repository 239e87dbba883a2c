package hygiene

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
)

// sysconfigIptables is the stock /etc/sysconfig/iptables of iptables-services
// that iptables.service restores (without --noflush) at every start.
const sysconfigIptables = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
`

// snapshotOf saves the lab node's tables of both backends and reads them
// the way `exposure check --rules` does.
func snapshotOf(t *testing.T, lab *netns.Lab) Snapshot {
	t.Helper()
	var ss []Snapshot
	for _, b := range []netns.Backend{netns.NFT, netns.Legacy} {
		text, err := lab.SaveIptables(b, false)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := iptables.Parse([]byte(text), iptables.Options{File: b.String()})
		if err != nil {
			t.Fatalf("parse %s save: %v", b, err)
		}
		ss = append(ss, FromRuleset(rs).WithBackend(HeaderBackend([]byte(text))))
	}
	return Merge(ss...)
}

// TestKernelHygiene loads real kube-proxy and Docker rules into a network
// namespace, breaks them the ways the OpenShift iptables chapter warns of,
// and reads the kernel's own dump back.
func TestKernelHygiene(t *testing.T) {
	lab := netns.New(t)
	kubeProxy, err := os.ReadFile(filepath.Join("testdata", "kube-proxy-synced.iptables-nft-save.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// kube-proxy creates its nfacct counters over netlink before it
	// restores; the lab has no nfacct tool, so those matches are dropped.
	kubeProxy = regexp.MustCompile(`-m nfacct --nfacct-name +\S+ `).ReplaceAll(kubeProxy, nil)
	docker, err := os.ReadFile(filepath.Join("testdata", "docker-run.iptables-legacy-save.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cs := Components{KubeProxy: "pid 1"}
	ids := []string{"ruleset-flushed", "kube-proxy-canary", "kube-proxy-chains", "mixed-backends", "admin-rules"}
	steps := []struct {
		name  string
		apply func() error
		want  map[string]string
	}{
		{"kube-proxy synced", func() error { return lab.RestoreIptables(netns.NFT, false, string(kubeProxy)) }, map[string]string{
			"ruleset-flushed": "PASS 3 tables, 115 rules, 43 Kubernetes chains", "kube-proxy-canary": "PASS present",
			"kube-proxy-chains": "PASS present", "mixed-backends": "PASS one backend", "admin-rules": "PASS none",
		}},
		{"iptables.service restores /etc/sysconfig/iptables", func() error { return lab.RestoreIptables(netns.NFT, false, sysconfigIptables) }, map[string]string{
			"ruleset-flushed": "PASS 3 tables, 102 rules, 36 Kubernetes chains", "kube-proxy-canary": "WARN missing in ipv4/filter",
			"kube-proxy-chains": "PASS present", "mixed-backends": "PASS one backend",
			"admin-rules": "INFO filter/INPUT#1: -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT; filter/INPUT#2: -A INPUT -p icmp -j ACCEPT; filter/INPUT#3: -A INPUT -i lo -j ACCEPT; … 3 more",
		}},
		{"dockerd on iptables-legacy next to it", func() error { return lab.RestoreIptables(netns.Legacy, false, string(docker)) }, map[string]string{
			"ruleset-flushed": "PASS 5 tables, 126 rules, 36 Kubernetes chains", "kube-proxy-canary": "WARN missing in ipv4/filter",
			"kube-proxy-chains": "PASS present", "mixed-backends": "WARN ipv4: 24 legacy and 102 nf_tables rules",
			"admin-rules": "WARN filter/INPUT#1: -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT; filter/INPUT#2: -A INPUT -p icmp -j ACCEPT; filter/INPUT#3: -A INPUT -i lo -j ACCEPT; … 3 more",
		}},
		{"iptables -F -X on every table of both backends", lab.Reset, map[string]string{
			"ruleset-flushed": "FAIL 2 tables, 0 rules, 0 Kubernetes chains", "kube-proxy-canary": "WARN missing in ipv4/mangle, ipv4/nat, ipv4/filter",
			"kube-proxy-chains": "FAIL missing in ipv4/nat", "mixed-backends": "PASS one backend", "admin-rules": "PASS none",
		}},
	}
	for _, st := range steps {
		if err := st.apply(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := statusOf(Rules(snapshotOf(t, lab), cs, "true"), ids...)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("after %s (-want +got):\n%s", st.name, diff)
		}
	}
}
