package collect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLocalnetSnapshot: route_localnet of all and each interface is read
// from /proc/sys into the bundle, survives a write and read, and reaches
// the simulator's Env; an unreadable value is unknown, not 0.
func TestLocalnetSnapshot(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantVals  map[string]int
		wantEnv   map[string]bool
		wantNoted bool
	}{
		{"kube-proxy's all=1", map[string]string{"all": "1\n", "lo": "0\n", "eth0": "0\n"},
			map[string]int{"all": 1, "lo": 0, "eth0": 0}, map[string]bool{"all": true, "lo": false, "eth0": false}, false},
		{"device alone", map[string]string{"all": "0\n", "eth0": "1\n"},
			map[string]int{"all": 0, "eth0": 1}, map[string]bool{"all": false, "eth0": true}, false},
		{"garbage is unknown", map[string]string{"all": "0\n", "eth0": "x\n"},
			map[string]int{"all": 0}, map[string]bool{"all": false}, false},
		{"nothing readable", nil, nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proc := fstest.MapFS{}
			for dev, v := range tc.files {
				proc[routeLocalnetPath(dev)] = &fstest.MapFile{Data: []byte(v)}
			}
			l := Live{Run: &fakeRunner{}, Proc: proc, Net: fakeNet{}, Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
			b := l.Snapshot(context.Background())
			if d := cmp.Diff(tc.wantVals, b.RouteLocalnet); d != "" {
				t.Errorf("got route_localnet differs (-want +got):\n%s", d)
			}
			if got := strings.Contains(strings.Join(b.Notes, "\n"), "route_localnet"); got != tc.wantNoted {
				t.Errorf("got route_localnet note %v, want %v (notes %q)", got, tc.wantNoted, b.Notes)
			}
			var buf strings.Builder
			if err := WriteBundle(&buf, b, false); err != nil {
				t.Fatal(err)
			}
			rb, err := ReadBundle([]byte(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			in, err := rb.Input(Loader{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantEnv, in.Env.RouteLocalnet); d != "" {
				t.Errorf("got Env.RouteLocalnet differs (-want +got):\n%s", d)
			}
		})
	}
}

// TestLocalnetOldBundle: a bundle written before route_localnet existed
// loads with it unknown.
func TestLocalnetOldBundle(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("..", "examples", "kube-proxy-node.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(old), "route_localnet") {
		t.Fatal("examples/kube-proxy-node.bundle has route_localnet; this case needs a bundle without it")
	}
	b, err := ReadBundle(old)
	if err != nil {
		t.Fatalf("got error %v reading a bundle without route_localnet, want none", err)
	}
	in, err := b.Input(Loader{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Env.RouteLocalnet != nil {
		t.Errorf("got Env.RouteLocalnet %v from a bundle without it, want nil (unknown)", in.Env.RouteLocalnet)
	}
	if strings.Contains(string(old), "accept_local") {
		t.Fatal("examples/kube-proxy-node.bundle has accept_local; this case needs a bundle without it")
	}
	if b.AcceptLocal != nil || in.Env.AcceptLocal != nil {
		t.Errorf("got accept_local %v (Env %v) from a bundle without it, want nil (unknown)", b.AcceptLocal, in.Env.AcceptLocal)
	}
}

// TestAcceptLocalSnapshot: accept_local of all and each interface is read
// from /proc/sys beside route_localnet, survives a write and read, and
// reaches the simulator's Env; an unreadable value is unknown, not 0, and
// one sysctl missing does not hide the other.
func TestAcceptLocalSnapshot(t *testing.T) {
	tests := []struct {
		name         string
		files        map[string]string // path under /proc → content
		wantVals     map[string]int
		wantEnv      map[string]bool
		wantLocalnet map[string]int
		wantNoted    bool
	}{
		{"all=1", map[string]string{acceptLocalPath("all"): "1\n", acceptLocalPath("eth0"): "0\n"},
			map[string]int{"all": 1, "eth0": 0}, map[string]bool{"all": true, "eth0": false}, nil, false},
		{"device alone, route_localnet beside it", map[string]string{acceptLocalPath("all"): "0\n", acceptLocalPath("eth0"): "1\n", routeLocalnetPath("all"): "1\n"},
			map[string]int{"all": 0, "eth0": 1}, map[string]bool{"all": false, "eth0": true}, map[string]int{"all": 1}, false},
		{"garbage is unknown", map[string]string{acceptLocalPath("all"): "0\n", acceptLocalPath("lo"): "2\n"},
			map[string]int{"all": 0}, map[string]bool{"all": false}, nil, false},
		{"only route_localnet readable", map[string]string{routeLocalnetPath("all"): "0\n"}, nil, nil, map[string]int{"all": 0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proc := fstest.MapFS{}
			for path, v := range tc.files {
				proc[path] = &fstest.MapFile{Data: []byte(v)}
			}
			l := Live{Run: &fakeRunner{}, Proc: proc, Net: fakeNet{}, Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
			b := l.Snapshot(context.Background())
			if d := cmp.Diff(tc.wantVals, b.AcceptLocal); d != "" {
				t.Errorf("got accept_local differs (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantLocalnet, b.RouteLocalnet); d != "" {
				t.Errorf("got route_localnet differs (-want +got):\n%s", d)
			}
			if got := strings.Contains(strings.Join(b.Notes, "\n"), "accept_local: could not read"); got != tc.wantNoted {
				t.Errorf("got accept_local note %v, want %v (notes %q)", got, tc.wantNoted, b.Notes)
			}
			if _, ok := b.Provenance["accept_local"]; ok != (tc.wantVals != nil) {
				t.Errorf("got accept_local provenance %v, want %v", ok, tc.wantVals != nil)
			}
			var buf strings.Builder
			if err := WriteBundle(&buf, b, false); err != nil {
				t.Fatal(err)
			}
			rb, err := ReadBundle([]byte(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			in, err := rb.Input(Loader{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantEnv, in.Env.AcceptLocal); d != "" {
				t.Errorf("got Env.AcceptLocal differs (-want +got):\n%s", d)
			}
		})
	}
}

// TestRPFilterSnapshot: rp_filter (0, 1 or 2) of all and each interface
// is read from /proc/sys, survives a write and read and reaches the
// simulator's Env; an unreadable or foreign value is unknown; a bundle
// without it has none.
func TestRPFilterSnapshot(t *testing.T) {
	proc := fstest.MapFS{
		rpFilterPath("all"):    &fstest.MapFile{Data: []byte("2\n")},
		rpFilterPath("eth0"):   &fstest.MapFile{Data: []byte("1\n")},
		rpFilterPath("lo"):     &fstest.MapFile{Data: []byte("7\n")},
		acceptLocalPath("all"): &fstest.MapFile{Data: []byte("2\n")},
	}
	l := Live{Run: &fakeRunner{}, Proc: proc, Net: fakeNet{}, Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	b := l.Snapshot(context.Background())
	want := map[string]int{"all": 2, "eth0": 1}
	if d := cmp.Diff(want, b.RPFilter); d != "" {
		t.Errorf("got rp_filter differs (-want +got):\n%s", d)
	}
	if b.AcceptLocal != nil {
		t.Errorf("got accept_local %v from a 2, want nil (0/1 only)", b.AcceptLocal)
	}
	var buf strings.Builder
	if err := WriteBundle(&buf, b, false); err != nil {
		t.Fatal(err)
	}
	rb, err := ReadBundle([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	in, err := rb.Input(Loader{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, in.Env.RPFilter); d != "" {
		t.Errorf("got Env.RPFilter differs (-want +got):\n%s", d)
	}
	rb.RPFilter = nil
	if in, err = rb.Input(Loader{}); err != nil || in.Env.RPFilter != nil {
		t.Errorf("got Env.RPFilter %v, %v from a bundle without rp_filter, want nil (unknown)", in.Env.RPFilter, err)
	}
}
