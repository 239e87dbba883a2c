package kubeproxy

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var netnsSeq atomic.Int64

// withNetns runs fn inside a fresh network namespace named expo-gen-<pid>-<n>, deleted afterwards.
func withNetns(t *testing.T, tools []string, fn func(run func(stdin []byte, args ...string) string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads rulesets into a network namespace")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	ns := fmt.Sprintf("expo-gen-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("create netns: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v: %s", ns, err, out)
		}
	})
	fn(func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	})
}

func generate(t *testing.T, node Node, n, m int, opt Options, nft bool) []byte {
	t.Helper()
	svcs, err := Scale(n, m, 1)
	if err != nil {
		t.Fatalf("scale: %v", err)
	}
	var buf bytes.Buffer
	gen := IPTablesSave
	if nft {
		gen = NFTRuleset
	}
	if _, err := gen(&buf, node, svcs, opt); err != nil {
		t.Fatalf("generate: %v", err)
	}
	return buf.Bytes()
}

// TestToolsAcceptGenerated feeds a 50-Service dump to the real parsers: iptables-legacy-restore --test,
// iptables-nft-restore --test and nft -c -f.
func TestToolsAcceptGenerated(t *testing.T) {
	tests := []struct {
		name  string
		tool  string
		opt   Options
		nft   bool
		check []string
	}{
		{name: "legacy", tool: "iptables-legacy-restore", opt: Options{Flavour: FlavourLegacy}, check: []string{"iptables-legacy-restore", "--test"}},
		{name: "iptables-nft", tool: "iptables-nft-restore", check: []string{"iptables-nft-restore", "--test"}},
		{name: "nft v1.34", tool: "nft", nft: true, check: []string{"nft", "-c", "-f", "-"}},
		{name: "nft v1.32", tool: "nft", nft: true, opt: Options{Version: V132}, check: []string{"nft", "-c", "-f", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withNetns(t, []string{tc.tool}, func(run func([]byte, ...string) string) {
				run(generate(t, ScaleNode(), 50, 3, tc.opt, tc.nft), tc.check...)
			})
		})
	}
}

// TestRoundTrip loads the generated text for real and checks that the tools print it back unchanged (apart from
// header lines, the legacy table order and the kernel's set element order). The nfacct matches are left out:
// their counters are objects kube-proxy creates over netlink, without which the rules do not load.
func TestRoundTrip(t *testing.T) {
	node := ScaleNode()
	node.NoNFAcct = true
	t.Run("iptables-nft", func(t *testing.T) {
		withNetns(t, []string{"iptables-nft-restore", "iptables-nft-save"}, func(run func([]byte, ...string) string) {
			in := generate(t, node, 50, 3, Options{}, false)
			run(in, "iptables-nft-restore")
			compareDumps(t, parseDump(run(nil, "iptables-nft-save")), parseDump(string(in)))
		})
	})
	t.Run("iptables-nft counters", func(t *testing.T) {
		withNetns(t, []string{"iptables-nft-restore", "iptables-nft-save"}, func(run func([]byte, ...string) string) {
			in := generate(t, node, 20, 2, Options{Counters: true}, false)
			run(in, "iptables-nft-restore", "-c")
			if got := stripHeaders(run(nil, "iptables-nft-save", "-c")); got != stripHeaders(string(in)) {
				t.Errorf("iptables-nft-save -c differs from the generated text:\n%s", got)
			}
		})
	})
	t.Run("iptables-legacy", func(t *testing.T) {
		withNetns(t, []string{"iptables-legacy-restore", "iptables-legacy-save"}, func(run func([]byte, ...string) string) {
			in := generate(t, node, 50, 3, Options{Flavour: FlavourLegacy}, false)
			run(in, "iptables-legacy-restore")
			got := parseDump(run(nil, "iptables-legacy-save"))
			// Restoring nat, filter, mangle in that order makes mangle the newest table, listed first.
			if g, w := strings.Join(got.tables, ","), "mangle,filter,nat"; g != w {
				t.Errorf("table order after restore: got %s, want %s", g, w)
			}
			got.tables = []string{"nat", "filter", "mangle"}
			compareDumps(t, got, parseDump(string(in)))
		})
	})
	t.Run("nft", func(t *testing.T) {
		withNetns(t, []string{"nft"}, func(run func([]byte, ...string) string) {
			in := generate(t, node, 50, 3, Options{}, true)
			run(in, "nft", "-f", "-")
			got := parseListing(run(nil, "nft", "list", "ruleset"), "ip kube-proxy")
			want := parseListing(string(in), "ip kube-proxy")
			if g, w := strings.Join(got.order, "\n"), strings.Join(want.order, "\n"); g != w {
				t.Errorf("block order:\ngot:\n%s\nwant:\n%s", g, w)
			}
			compareListings(t, got, want)
		})
	})
}

// TestExamplesLoad checks that the real tools accept every file under examples/.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(examplesDir + "*")
	if err != nil {
		t.Fatalf("list examples: %v", err)
	}
	for _, f := range files {
		var check []string
		switch {
		case strings.HasSuffix(f, ".iptables-save"):
			check = []string{"iptables-nft-restore", "--test"}
		case strings.HasSuffix(f, ".nft"):
			check = []string{"nft", "-c", "-f", "-"}
		default:
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("read example: %v", err)
			}
			withNetns(t, []string{check[0]}, func(run func([]byte, ...string) string) { run(in, check...) })
		})
	}
}

// v6Services is a small dual-stack-style IPv6 Service set (ULA service range, documentation endpoints).
func v6Services() []Service {
	ep := func(s string, local bool) Endpoint { return Endpoint{IP: netip.MustParseAddr(s), Local: local} }
	return []Service{
		{Namespace: "v6", Name: "web", Type: NodePort, ClusterIP: netip.MustParseAddr("fd00:10::10"),
			Ports:     []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080, NodePort: 30180}},
			Endpoints: []Endpoint{ep("2001:db8:1::11", true), ep("2001:db8:1::12", false)}},
		{Namespace: "v6", Name: "lb", Type: LoadBalancer, ClusterIP: netip.MustParseAddr("fd00:10::20"),
			LoadBalancerIPs:          []netip.Addr{netip.MustParseAddr("2001:db8:ff::20")},
			LoadBalancerSourceRanges: []netip.Prefix{netip.MustParsePrefix("2001:db8:aa::/48")},
			ExternalTrafficPolicy:    PolicyLocal, HealthCheckNodePort: 30190, SessionAffinity: true,
			Ports:     []Port{{Name: "https", Protocol: TCP, Port: 443, TargetPort: 8443, NodePort: 30143}},
			Endpoints: []Endpoint{ep("2001:db8:1::11", true), ep("2001:db8:1::13", false)}},
		{Namespace: "v6", Name: "none", ClusterIP: netip.MustParseAddr("fd00:10::30"),
			Ports: []Port{{Protocol: UDP, Port: 53, TargetPort: 53}}},
	}
}

// TestIP6TablesLoad feeds IPv6 output to ip6tables-legacy-restore and ip6tables-nft-restore --test.
func TestIP6TablesLoad(t *testing.T) {
	node := Node{IPs: []netip.Addr{netip.MustParseAddr("2001:db8:aa::2")}, ClusterCIDR: netip.MustParsePrefix("2001:db8:1::/64"), Kubelet: true}
	for _, tool := range []string{"ip6tables-legacy-restore", "ip6tables-nft-restore"} {
		t.Run(tool, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := IP6TablesSave(&buf, node, v6Services(), Options{}); err != nil {
				t.Fatalf("generate: %v", err)
			}
			for _, want := range []string{"-j DNAT --to-destination [2001:db8:1::11]:8443", "--reject-with icmp6-port-unreachable", "! -d ::1/128"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("output lacks %q", want)
				}
			}
			withNetns(t, []string{tool}, func(run func([]byte, ...string) string) { run(buf.Bytes(), tool, "--test") })
		})
	}
}

// TestNFT6RoundTrip loads IPv6 nftables output for real and compares nft's listing with it.
func TestNFT6RoundTrip(t *testing.T) {
	node := Node{IPs: []netip.Addr{netip.MustParseAddr("2001:db8:aa::2")}, ClusterCIDR: netip.MustParsePrefix("2001:db8:1::/64"),
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00:10::/108")}}
	withNetns(t, []string{"nft"}, func(run func([]byte, ...string) string) {
		var buf bytes.Buffer
		if _, err := NFT6Ruleset(&buf, node, v6Services(), Options{}); err != nil {
			t.Fatalf("generate: %v", err)
		}
		run(buf.Bytes(), "nft", "-f", "-")
		got := parseListing(run(nil, "nft", "list", "ruleset"), "ip6 kube-proxy")
		want := parseListing(buf.String(), "ip6 kube-proxy")
		if g, w := strings.Join(got.order, "\n"), strings.Join(want.order, "\n"); g != w {
			t.Errorf("block order:\ngot:\n%s\nwant:\n%s", g, w)
		}
		compareListings(t, got, want)
	})
}

// stripHeaders drops the "#" lines.
func stripHeaders(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
