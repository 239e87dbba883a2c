package kubeproxy

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// nftListing is `nft list ruleset` text split into blocks ("set X", "map X", "chain X") in listing order; the
// elements of each set/map are sorted, because the kernel lists hashed sets in its own order.
type nftListing struct {
	order  []string
	blocks map[string]string
}

func parseListing(text, table string) nftListing {
	l := nftListing{blocks: map[string]string{}}
	in := false
	var cur string
	var body, elems []string
	inElems := false
	flush := func() {
		sort.Strings(elems)
		l.blocks[cur] = strings.Join(body, "\n") + "\nelements: " + strings.Join(elems, " | ")
		body, elems = nil, nil
	}
	for _, line := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "table "):
			in = line == "table "+table+" {"
		case !in || trim == "":
		case strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t\t") && strings.HasSuffix(trim, "{"):
			cur = strings.TrimSuffix(trim, " {")
			l.order = append(l.order, cur)
		case line == "\t}":
			flush()
		case inElems || strings.HasPrefix(trim, "elements = { "):
			trim = strings.TrimPrefix(trim, "elements = { ")
			inElems = !strings.HasSuffix(trim, "}")
			for _, e := range strings.Split(strings.TrimSuffix(trim, " }"), ",") {
				if e = strings.TrimSpace(e); e != "" {
					elems = append(elems, e)
				}
			}
		case cur != "":
			body = append(body, trim)
		}
	}
	return l
}

// isServiceBlock reports whether a block belongs to one Service (kube-proxy writes those in map order).
func isServiceBlock(name string) bool { return strings.Contains(name, "/") }

func compareListings(t *testing.T, got, want nftListing) {
	t.Helper()
	fixed := func(l nftListing) string {
		var out []string
		for _, b := range l.order {
			if !isServiceBlock(b) {
				out = append(out, b)
			}
		}
		return strings.Join(out, "\n")
	}
	if g, w := fixed(got), fixed(want); g != w {
		t.Errorf("block order:\ngot:\n%s\nwant:\n%s", g, w)
	}
	if g, w := strings.Join(sorted(got.order), "\n"), strings.Join(sorted(want.order), "\n"); g != w {
		t.Errorf("blocks:\ngot:\n%s\nwant:\n%s", g, w)
	}
	for name, w := range want.blocks {
		if g := got.blocks[name]; g != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, g, w)
		}
	}
}

// TestNFTRulesetMatchesCorpus regenerates table ip kube-proxy of the nftables-mode capture (kube-proxy v1.32.13).
// Allowed differences: element order inside sets and maps (kernel hash order), and the order of the
// per-Service blocks (kube-proxy iterates a Go map); the blocks themselves must match line by line.
func TestNFTRulesetMatchesCorpus(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(corpusDir, "nftables-mode/01-synced.nft-list-ruleset.txt"))
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	var buf bytes.Buffer
	if _, err := NFTRuleset(&buf, corpusNode(), corpusServices(t), Options{Version: V132}); err != nil {
		t.Fatalf("generate: %v", err)
	}
	compareListings(t, parseListing(buf.String(), "ip kube-proxy"), parseListing(string(want), "ip kube-proxy"))
}

// TestNFTRulesetV134 checks the v1.34 differences from the v1.32 layout.
func TestNFTRulesetV134(t *testing.T) {
	node := corpusNode()
	node.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}
	var buf bytes.Buffer
	if _, err := NFTRuleset(&buf, node, corpusServices(t), Options{}); err != nil {
		t.Fatalf("generate: %v", err)
	}
	l := parseListing(buf.String(), "ip kube-proxy")
	tests := []struct{ block, want string }{
		{"chain filter-prerouting-pre-dnat", "type filter hook prerouting priority dstnat - 10; policy accept;\nct state new jump firewall-check"},
		{"chain filter-output-pre-dnat", "type filter hook output priority -110; policy accept;\nct state new jump firewall-check"},
		{"chain filter-output", "type filter hook output priority filter; policy accept;\nct state new jump service-endpoints-check\nct state new jump cluster-ips-check"},
		{"chain cluster-ips-check", "ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"\nip daddr 10.0.0.0/16 drop comment \"Drop traffic to unallocated ClusterIPs\""},
		{"chain service-ZJV3QHHJ-default/svc-nodeport/tcp/http", "ip daddr 10.0.0.20 ip saddr != 198.51.100.0/24 jump mark-for-masquerade\nnumgen random mod 2 vmap { 0 : goto endpoint-2DE5EGH6-default/svc-nodeport/tcp/http__198.51.100.11/8080, 1 : goto endpoint-V4JVDVVU-default/svc-nodeport/tcp/http__198.51.100.12/8080 }"},
	}
	for _, tc := range tests {
		t.Run(tc.block, func(t *testing.T) {
			got, ok := l.blocks[tc.block]
			if !ok {
				t.Fatalf("block %q missing", tc.block)
			}
			if got = strings.TrimSuffix(got, "\nelements: "); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	if _, ok := l.blocks["chain filter-output-post-dnat"]; ok {
		t.Errorf("v1.34 layout has chain filter-output-post-dnat, want none")
	}
}

// TestNFT6RulesetMatchesCorpus regenerates table ip6 kube-proxy of the capture: no IPv6 Services and no IPv6 node
// IP, so NodePorts go to every local address but ::1.
func TestNFT6RulesetMatchesCorpus(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(corpusDir, "nftables-mode/01-synced.nft-list-ruleset.txt"))
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	var buf bytes.Buffer
	if _, err := NFT6Ruleset(&buf, corpusNode(), corpusServices(t), Options{Version: V132}); err != nil {
		t.Fatalf("generate: %v", err)
	}
	got, w := parseListing(buf.String(), "ip6 kube-proxy"), parseListing(string(want), "ip6 kube-proxy")
	if strings.Join(got.order, "\n") != strings.Join(w.order, "\n") {
		t.Errorf("block order:\ngot:\n%s\nwant:\n%s", strings.Join(got.order, "\n"), strings.Join(w.order, "\n"))
	}
	compareListings(t, got, w)
}
