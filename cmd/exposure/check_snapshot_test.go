package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/exposure-audit/exposure/checks/audit"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/collect"
)

// TestCheckSnapshot: `exposure check --snapshot` on a bundle whose
// node_files were recorded from a node tree gives the results that
// `exposure check --root` gives on the tree itself.
func TestCheckSnapshot(t *testing.T) {
	root := filepath.Join(nodes, "kubeadm")
	rec := hostfs.NewRecorder()
	if _, err := audit.Run(context.Background(), audit.Options{FS: hostfs.FS{Root: root, Rec: rec}, Version: "v1.30.4"}); err != nil {
		t.Fatal(err)
	}
	b := &collect.Bundle{FormatVersion: collect.BundleFormatVersion, Kind: collect.BundleKind, NodeFiles: rec.Capture()}
	file := filepath.Join(t.TempDir(), "node.bundle")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := collect.WriteBundle(f, b, false); err != nil {
		t.Fatal(err)
	}
	f.Close()
	results := func(args ...string) map[string]string {
		code, out, errOut := runCLI(t, append([]string{"check", "--kubelet-version", "v1.30.4", "-o", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep struct {
			Results []struct{ ID, Status string } `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range rep.Results {
			m[r.ID] = r.Status
		}
		return m
	}
	live, replay := results("--root", root), results("--snapshot", file)
	if len(live) < 5 {
		t.Fatalf("too few results: %v", live)
	}
	for id, st := range live {
		if replay[id] != st {
			t.Errorf("%s: --root says %s, --snapshot says %s", id, st, replay[id])
		}
	}
	if code, _, errOut := runCLI(t, "check", "--snapshot", file, "--root", "/x"); code != 2 {
		t.Errorf("--snapshot with --root: exit %d (%s), want 2", code, errOut)
	}
}
