package diff

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/collect"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// corpus is the shared copy of the real captures (testdata/corpus/README.md
// says how each file was produced).
const corpus = "../testdata/corpus/"

// loader reads every format, as the CLI's newLoader does.
var loader = collect.Loader{Nft: nftables.Parser{}}

// load reads and validates ruleset files as the CLI does.
func load(t *testing.T, files ...string) *nf.Ruleset {
	t.Helper()
	rs, err := loader.LoadFiles(files...)
	if err != nil {
		t.Fatalf("load %v: %v", files, err)
	}
	return rs
}

// compareFiles diffs two inputs (each one or more files, comma-separated).
func compareFiles(t *testing.T, before, after string) *Result {
	t.Helper()
	bs, as := strings.Split(before, ","), strings.Split(after, ",")
	r := Compare(load(t, bs...), load(t, as...))
	r.Before, r.After = bs, as
	return r
}

// checkGolden compares got with testdata/golden/name, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./diff -update): %v", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from golden (-want +got):\n%s", name, d)
	}
}

// corpusPairs are real before/after captures of one component's action.
var corpusPairs = []struct {
	name, before, after string
}{
	{"docker-start", "docker/run1-nft-userland-proxy/pre-dockerd.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/01-after-start.iptables-nft-save.txt"},
	{"docker-run-p8080", "docker/run1-nft-userland-proxy/01-after-start.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/02-after-run-p8080.iptables-nft-save.txt"},
	{"docker-run-to-rm", "docker/run1-nft-userland-proxy/02-after-run-p8080.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/06-after-rm-web8080.iptables-nft-save.txt"},
	{"docker-rm-web8080", "docker/run1-nft-userland-proxy/05-after-variants.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/06-after-rm-web8080.iptables-nft-save.txt"},
	{"docker-stop", "docker/run1-nft-userland-proxy/06-after-rm-web8080.iptables-nft-save.txt", "docker/run1-nft-userland-proxy/07-after-dockerd-stop.iptables-nft-save.txt"},
	{"docker-run-p8080-nft-json", "docker/run1-nft-userland-proxy/01-after-start.nft-list-ruleset.json", "docker/run1-nft-userland-proxy/02-after-run-p8080.nft-list-ruleset.json"},
	{"docker-legacy-run", "docker/run2-legacy-no-userland-proxy/01-after-start.iptables-legacy-save.txt", "docker/run2-legacy-no-userland-proxy/02-after-run.iptables-legacy-save.txt"},
	{"cni-bridge-add", "cni-portmap/00-before.iptables-nft-save.txt", "cni-portmap/02-after-bridge-add.iptables-nft-save.txt"},
	{"cni-portmap-add", "cni-portmap/02-after-bridge-add.iptables-nft-save.txt", "cni-portmap/03-after-portmap-add.iptables-nft-save.txt"},
	{"cni-portmap-del", "cni-portmap/03-after-portmap-add.iptables-nft-save.txt", "cni-portmap/05-after-portmap-del.iptables-nft-save.txt"},
	{"cni-bridge-del", "cni-portmap/05-after-portmap-del.iptables-nft-save.txt", "cni-portmap/06-after-bridge-del.iptables-nft-save.txt"},
	{"podman-netavark-run", "podman/netavark/00-before.iptables-nft-save.txt", "podman/netavark/01-netavark-after-run.iptables-nft-save.txt"},
	{"podman-netavark-rm", "podman/netavark/01-netavark-after-run.iptables-nft-save.txt", "podman/netavark/02-netavark-after-rm-all.iptables-nft-save.txt"},
	{"podman-cni-rm", "podman/cni-backend/03-cni-backend-after-run.iptables-nft-save.txt", "podman/cni-backend/04-cni-backend-after-rm.iptables-nft-save.txt"},
	{"firewalld-iptables-add-port", "firewalld/iptables-backend/10-iptables-backend-after-start.iptables-nft-save.txt", "firewalld/iptables-backend/11-iptables-backend-after-add-port.iptables-nft-save.txt"},
	{"firewalld-nft-add-port", "firewalld/nftables-backend/01-after-start.nft-list-ruleset.txt", "firewalld/nftables-backend/02-after-runtime-add-port.nft-list-ruleset.txt"},
	{"firewalld-nft-add-port-json", "firewalld/nftables-backend/01-after-start.nft-list-ruleset.json", "firewalld/nftables-backend/02-after-runtime-add-port.nft-list-ruleset.json"},
	{"firewalld-nft-remove-port", "firewalld/nftables-backend/02-after-runtime-add-port.nft-list-ruleset.txt", "firewalld/nftables-backend/03-after-runtime-remove-port.nft-list-ruleset.txt"},
	{"firewalld-nft-start", "firewalld/nftables-backend/00-before.nft-list-ruleset.txt", "firewalld/nftables-backend/01-after-start.nft-list-ruleset.txt"},
	{"firewalld-nft-extras", "firewalld/nftables-backend/05-after-reload.nft-list-ruleset.txt", "firewalld/nftables-backend/07-after-runtime-extras.nft-list-ruleset.txt"},
	{"kube-proxy-iptables-delete-svc", "kube-proxy/iptables-mode/01-synced.iptables-nft-save.txt", "kube-proxy/iptables-mode/04-after-delete-svc-nodeport.iptables-nft-save.txt"},
	{"kube-proxy-iptables-cleanup", "kube-proxy/iptables-mode/04-after-delete-svc-nodeport.iptables-nft-save.txt", "kube-proxy/iptables-mode/06-after-cleanup.iptables-nft-save.txt"},
	{"kube-proxy-iptables-start", "kube-proxy/iptables-mode/00-before-kube-proxy.iptables-nft-save.txt", "kube-proxy/iptables-mode/01-synced.iptables-nft-save.txt"},
	{"kube-proxy-nft-delete-svc", "kube-proxy/nftables-mode/01-synced.nft-list-ruleset.txt", "kube-proxy/nftables-mode/04-after-delete-svc-nodeport.nft-list-ruleset.txt"},
	{"kube-proxy-nft-recreate-svc", "kube-proxy/nftables-mode/06-after-restart.nft-list-ruleset.txt", "kube-proxy/nftables-mode/07-after-recreate-svc-nodeport.nft-list-ruleset.txt"},
	{"kube-proxy-scale-add-one", "kube-proxy/scale-300/iptables-mode/01-synced.iptables-save.txt", "kube-proxy/scale-300/iptables-mode/02-after-add-one.iptables-save.txt"},
}

// freshPairs are the Docker captures made for this package
// (testdata/real-docker/README.md): `iptables -S` of two tables, and
// iptables-save, before and after docker run -p and rm.
var freshPairs = []struct {
	name, before, after string
}{
	{"fresh-docker-run-p8080-S", "01-before-run.filter.S.txt,01-before-run.nat.S.txt", "02-after-run-p8080.filter.S.txt,02-after-run-p8080.nat.S.txt"},
	{"fresh-docker-run-lo9090", "02-after-run-p8080.iptables-save.txt", "03-after-run-lo9090.iptables-save.txt"},
	{"fresh-docker-rm-web8080", "03-after-run-lo9090.iptables-save.txt", "04-after-rm-web8080.iptables-save.txt"},
	{"fresh-docker-S-before-save-after", "01-before-run.filter.S.txt,01-before-run.nat.S.txt", "02-after-run-p8080.iptables-save.txt"},
}

func TestFreshDockerGolden(t *testing.T) {
	prefix := func(list string) string {
		parts := strings.Split(list, ",")
		for i, p := range parts {
			parts[i] = "testdata/real-docker/" + p
		}
		return strings.Join(parts, ",")
	}
	for _, tc := range freshPairs {
		t.Run(tc.name, func(t *testing.T) {
			r := compareFiles(t, prefix(tc.before), prefix(tc.after))
			var txt bytes.Buffer
			if err := Write(&txt, "table", r); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name+".txt", txt.Bytes())
		})
	}
}

func TestCorpusGolden(t *testing.T) {
	for _, tc := range corpusPairs {
		t.Run(tc.name, func(t *testing.T) {
			r := compareFiles(t, corpus+tc.before, corpus+tc.after)
			var txt, js bytes.Buffer
			if err := Write(&txt, "table", r); err != nil {
				t.Fatal(err)
			}
			if err := Write(&js, "json", r); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name+".txt", txt.Bytes())
			checkGolden(t, tc.name+".json", js.Bytes())
		})
	}
}
