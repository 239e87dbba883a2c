package diff

import (
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/exposure"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// node builds an Env from "name=cidr" interfaces, as the CLI's --iface.
func node(ifaces ...string) *nf.Env {
	env := nf.NewEnv()
	for _, spec := range ifaces {
		name, cidr, _ := strings.Cut(spec, "=")
		p := netip.MustParsePrefix(cidr)
		env.Ifaces = append(env.Ifaces, nf.Iface{Name: name, Addrs: []netip.Prefix{p}})
		env.Local[p.Addr()] = true
		env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: name})
	}
	return env
}

// exposurePairs are real before/after captures with the node each ran on
// (the namespaces of testdata/corpus/*/README.md), probed from eth0.
var exposurePairs = []struct {
	name, before, after string
	ifaces              []string
}{
	{"exposure-docker-run-p8080", "docker/run1-nft-userland-proxy/01-after-start.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/02-after-run-p8080.iptables-nft-save.txt",
		[]string{"eth0=198.51.100.1/24", "docker0=172.17.0.1/16"}},
	{"exposure-docker-rm-web8080", "docker/run1-nft-userland-proxy/05-after-variants.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/06-after-rm-web8080.iptables-nft-save.txt",
		[]string{"eth0=198.51.100.1/24", "docker0=172.17.0.1/16"}},
	{"exposure-firewalld-iptables-add-port", "firewalld/iptables-backend/10-iptables-backend-after-start.iptables-nft-save.txt", "firewalld/iptables-backend/11-iptables-backend-after-add-port.iptables-nft-save.txt",
		[]string{"eth0=198.51.100.1/24"}},
	{"exposure-firewalld-nft-add-port", "firewalld/nftables-backend/01-after-start.nft-list-ruleset.txt", "firewalld/nftables-backend/02-after-runtime-add-port.nft-list-ruleset.txt",
		[]string{"eth0=198.51.100.1/24"}},
	{"exposure-kube-proxy-delete-svc", "kube-proxy/iptables-mode/01-synced.iptables-nft-save.txt", "kube-proxy/iptables-mode/04-after-delete-svc-nodeport.iptables-nft-save.txt",
		[]string{"eth0=192.0.2.2/24"}},
	{"exposure-kube-proxy-nft-delete-svc", "kube-proxy/nftables-mode/01-synced.nft-list-ruleset.txt", "kube-proxy/nftables-mode/04-after-delete-svc-nodeport.nft-list-ruleset.txt",
		[]string{"eth0=192.0.2.2/24"}},
	{"exposure-kube-proxy-nft-recreate-svc", "kube-proxy/nftables-mode/06-after-restart.nft-list-ruleset.txt", "kube-proxy/nftables-mode/07-after-recreate-svc-nodeport.nft-list-ruleset.txt",
		[]string{"eth0=192.0.2.2/24"}},
	{"exposure-cni-portmap-add", "cni-portmap/02-after-bridge-add.iptables-nft-save.txt", "cni-portmap/03-after-portmap-add.iptables-nft-save.txt",
		[]string{"eth0=198.51.100.1/24", "cni0=10.88.0.1/16"}},
}

func TestExposureGolden(t *testing.T) {
	for _, tc := range exposurePairs {
		t.Run(tc.name, func(t *testing.T) {
			r := compareFiles(t, corpus+tc.before, corpus+tc.after)
			env := node(tc.ifaces...)
			ec, notes, err := CompareExposure(exposure.Input{Ruleset: load(t, corpus+tc.before), Env: env}, exposure.Input{Ruleset: load(t, corpus+tc.after), Env: env},
				exposure.Options{Ifaces: []string{"eth0"}, Protos: []string{"tcp", "udp"}}, r.Changes)
			if err != nil {
				t.Fatal(err)
			}
			if len(ec) == 0 {
				t.Errorf("got no exposure change, want at least one")
			}
			r.ExposureChanges, r.Notes = ec, notes
			var txt bytes.Buffer
			if err := Write(&txt, "table", r); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name+".txt", txt.Bytes())
		})
	}
}

// TestBundleGolden compares the two snapshot bundles taken before and after
// docker run -p (testdata/real-docker/README.md), each side with its own
// interfaces and listening sockets, probed from the node's dn0.
func TestBundleGolden(t *testing.T) {
	side := func(name string) exposure.Input {
		data, err := os.ReadFile("testdata/real-docker/" + name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := collect.ReadBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		in, err := b.Input(loader)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	before, after := side("01-before-run.bundle.json"), side("02-after-run-p8080.bundle.json")
	r := Compare(before.Ruleset, after.Ruleset)
	ec, notes, err := CompareExposure(before, after, exposure.Options{Ifaces: []string{"dn0"}}, r.Changes)
	if err != nil {
		t.Fatal(err)
	}
	r.ExposureChanges, r.Notes = ec, notes
	var txt bytes.Buffer
	if err := Write(&txt, "table", r); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "fresh-docker-bundles.txt", txt.Bytes())
}

// TestExposureDiff checks the sweep on hand-made maps: ranges split where
// either side changes, adjacent equal changes merge, and a state that
// varies by source reads "mixed".
func TestExposureDiff(t *testing.T) {
	ex := func(from, to int, state string, sources ...string) exposure.Exposure {
		if len(sources) == 0 {
			sources = []string{"0.0.0.0/0"}
		}
		return exposure.Exposure{Proto: "tcp", Addr: "192.0.2.1", Iface: "eth0", PortFrom: from, PortTo: to, State: state, Sources: sources}
	}
	before := &exposure.Report{Exposures: []exposure.Exposure{ex(0, 79, "filtered"), ex(80, 80, "open"), ex(81, 65535, "filtered")}}
	after := &exposure.Report{Exposures: []exposure.Exposure{ex(0, 79, "filtered"), ex(80, 90, "closed"),
		ex(91, 100, "open", "10.0.0.0/8"), ex(91, 100, "filtered", "0.0.0.0/1"), ex(101, 65535, "filtered")}}
	var got []string
	for _, c := range ExposureDiff(before, after, nil) {
		got = append(got, strings.Join([]string{c.Proto, c.Addr, strconv.Itoa(c.PortFrom) + "-" + strconv.Itoa(c.PortTo), c.Before, c.After}, " "))
	}
	want := []string{
		"tcp 192.0.2.1 80-80 open closed",
		"tcp 192.0.2.1 81-90 filtered closed",
		"tcp 192.0.2.1 91-100 filtered mixed: filtered from 0.0.0.0/1; open from 10.0.0.0/8",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("exposure changes (-want +got):\n%s", d)
	}
}

func TestMergePrefixes(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"halves make the whole", []string{"128.0.0.0/1", "0.0.0.0/1"}, []string{"0.0.0.0/0"}},
		{"contained", []string{"10.0.0.0/8", "10.1.0.0/16"}, []string{"10.0.0.0/8"}},
		{"gap stays", []string{"10.0.0.0/32", "10.0.0.2/32"}, []string{"10.0.0.0/32", "10.0.0.2/32"}},
		{"run of hosts", []string{"10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32", "10.0.0.0/32"}, []string{"10.0.0.0/30"}},
		{"families apart", []string{"::/0", "0.0.0.0/0"}, []string{"0.0.0.0/0", "::/0"}},
		{"not a prefix", []string{"any"}, []string{"any"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, mergePrefixes(tc.in)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
