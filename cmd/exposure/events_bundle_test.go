package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEventsReconcileBundle: --snapshot takes a snapshot bundle; its rules
// (Docker's DNATs of the real dockerd run) are reconciled with the log.
func TestEventsReconcileBundle(t *testing.T) {
	code, out, errOut := runCLI(t, "events", "../../logs/testdata/real/docker/dockerd-run1-nft-debug.log",
		"--snapshot", "../../examples/docker-host.bundle", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rc struct {
		Missing     []map[string]any `json:"missing"`
		Unexplained []map[string]any `json:"unexplained"`
	}
	if err := json.Unmarshal([]byte(out), &rc); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if rc.Missing == nil || rc.Unexplained == nil {
		t.Fatalf("lists must be [] not null: %s", out)
	}
	found := false
	for _, f := range rc.Unexplained {
		if f["chain"] == "DOCKER" && f["port"] == float64(8080) {
			found = true
		}
	}
	if !found {
		t.Errorf("the bundle's DOCKER DNAT for 8080 should be reconciled with the log: %s", out)
	}
}

func TestEventsReconcileFlags(t *testing.T) {
	code, _, errOut := runCLI(t, "events", "x.log", "--snapshot", "a", "--live")
	if code != 2 || !strings.Contains(errOut, "--snapshot and --live") {
		t.Errorf("exit %d, %q; want 2 and a message about --snapshot and --live", code, errOut)
	}
}
