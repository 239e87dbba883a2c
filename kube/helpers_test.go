package kube

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// labEnv is the node netns of the kube-proxy captures (testdata/README.md):
// eth0 192.0.2.2/24 towards the client, eth1 203.0.113.253/30 uplink,
// vp1 198.51.100.1/32 towards the pods.
func labEnv() *nf.Env {
	env := nf.NewEnv(netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("203.0.113.253"), netip.MustParseAddr("198.51.100.1"))
	env.Ifaces = []nf.Iface{
		{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix("203.0.113.253/30")}},
		{Name: "vp1", Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/32")}},
	}
	return env
}

// loadRules parses a captured ruleset of testdata (iptables-save or nft
// list ruleset, by name) and validates it.
func loadRules(t testing.TB, rel string, edit func(string) string) *nf.Ruleset {
	t.Helper()
	path := filepath.Join("testdata", rel)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		data = []byte(edit(string(data)))
	}
	var rs *nf.Ruleset
	if strings.Contains(rel, ".nft") {
		rs, err = nftables.ParseText(data, path)
	} else {
		rs, err = iptables.Parse(data, iptables.Options{File: path})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// analyze computes the node's TCP and UDP exposure map of packets arriving
// on iface.
func analyze(t testing.TB, rs *nf.Ruleset, env *nf.Env, iface string, ls []exposure.Listener) *exposure.Report {
	t.Helper()
	rep, err := exposure.Analyze(exposure.Input{Ruleset: rs, Env: env, Listeners: ls},
		exposure.Options{Protos: []string{"tcp", "udp"}, Ifaces: []string{iface}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
