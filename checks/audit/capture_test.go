package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/kubelet"
)

// TestCaptureReplay: an audit recorded on a node tree (what a snapshot
// bundle keeps) and replayed from the capture alone gives the same
// results, for every fixture node.
func TestCaptureReplay(t *testing.T) {
	nodes, err := os.ReadDir("testdata/nodes")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		root := filepath.Join("testdata/nodes", n.Name())
		t.Run(n.Name(), func(t *testing.T) {
			rec := hostfs.NewRecorder()
			live := Options{FS: hostfs.FS{Root: root, Rec: rec}, Procs: kubelet.ProcFS{FS: hostfs.New(root), Dir: "/proc"}, Version: "v1.30.4"}
			inv, _ := kubelet.Discoverer{FS: live.FS, Procs: live.Procs}.Discover()
			want, err := Run(context.Background(), live)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := rec.Capture().Materialize(dir); err != nil {
				t.Fatal(err)
			}
			replay := Options{FS: hostfs.New(dir), Version: "v1.30.4"}
			if strings.HasPrefix(inv.Source, "/proc/") {
				// A live process is not in the files: the capture carries it.
				replay.Cmdline, replay.Cwd, replay.CmdlineSource = kubelet.JoinWords(inv.Argv), inv.Cwd, inv.Source
			}
			got, err := Run(context.Background(), replay)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(statuses(want), statuses(got)); diff != "" {
				t.Errorf("replayed audit differs (-live +replay):\n%s", diff)
			}
		})
	}
}

// statuses keeps each result's status and decisive evidence, leaving out
// the kubelet-source result (it says where the invocation came from).
func statuses(rep checks.Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Results {
		if r.ID == "kubelet-source" {
			continue
		}
		out[r.ID] = string(r.Status) + " " + string(r.Evidence.Layer) + " " + r.Evidence.Path + " " + r.Evidence.Actual
	}
	return out
}
