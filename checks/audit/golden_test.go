package audit

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/hygiene"
	"github.com/exposure-audit/exposure/checks/kubelet"
	"github.com/exposure-audit/exposure/checks/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestNodeGolden renders whole node audits (fixture tree, live /proc
// fixture, real rulesets) in every format.
func TestNodeGolden(t *testing.T) {
	nodes := []struct {
		name  string
		opts  func() Options
		rules []string
	}{
		{"kubeadm", func() Options {
			return Options{FS: hostfs.New("testdata/nodes/kubeadm"), Version: "v1.30.2"}
		}, nil},
		{"proc", func() Options {
			fs := hostfs.New("testdata/nodes/proc")
			return Options{FS: fs, Procs: kubelet.ProcFS{FS: fs, Dir: "/proc"}, Version: "v1.32.0"}
		}, []string{"../hygiene/testdata/kube-proxy-synced.iptables-nft-save.txt", "../hygiene/testdata/docker-run.iptables-legacy-save.txt"}},
	}
	for _, n := range nodes {
		for _, format := range render.Formats {
			t.Run(n.name+"/"+format, func(t *testing.T) {
				o := n.opts()
				for _, f := range n.rules {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					s, err := hygiene.FromSave(filepath.Base(f), data)
					if err != nil {
						t.Fatal(err)
					}
					o.Rules = append(o.Rules, s)
				}
				rep, err := Run(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := render.Write(&buf, format, rep); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", n.name+"."+format+".golden")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (go test ./checks/audit -update): %v", err)
				}
				if diff := cmp.Diff(string(want), buf.String()); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}
