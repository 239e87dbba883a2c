package k8slab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSyncs counts the sync lines of a real kube-proxy log.
func TestSyncs(t *testing.T) {
	kp := &Proxy{Log: filepath.Join("testdata", "kube-proxy-iptables.log")}
	if diff := cmp.Diff(map[string]int{"IPv4": 1, "IPv6": 1}, kp.Syncs()); diff != "" {
		t.Errorf("syncs (-want +got):\n%s", diff)
	}
}

// TestFind checks where the binaries are looked up.
func TestFind(t *testing.T) {
	withBoth := t.TempDir()
	for _, name := range []string{"kube-apiserver", "kube-proxy", "etcd"} {
		if err := os.WriteFile(filepath.Join(withBoth, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	noProxy := t.TempDir()
	if err := os.WriteFile(filepath.Join(noProxy, "kube-apiserver"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env string
		want      Binaries
		wantErr   bool
	}{
		{name: "EXPOSURE_K8S_BIN with etcd", env: withBoth, want: Binaries{Etcd: filepath.Join(withBoth, "etcd"),
			APIServer: filepath.Join(withBoth, "kube-apiserver"), Proxy: filepath.Join(withBoth, "kube-proxy")}},
		{name: "EXPOSURE_K8S_BIN without kube-proxy", env: noProxy, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvBin, tc.env)
			t.Setenv(EnvRequired, "")
			got, err := Find()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Find: got error %v, want error %t", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
				t.Errorf("Find (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCacheBinDir follows scripts/lib.sh's EXPOSURE_CACHE default.
func TestCacheBinDir(t *testing.T) {
	tests := []struct{ name, cache, xdg, home, want string }{
		{"EXPOSURE_CACHE", "/c", "/x", "/h", "/c/k8s/" + Version + "/bin"},
		{"XDG_CACHE_HOME", "", "/x", "/h", "/x/exposure/k8s/" + Version + "/bin"},
		{"HOME", "", "", "/h", "/h/.cache/exposure/k8s/" + Version + "/bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EXPOSURE_CACHE", tc.cache)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			if got := cacheBinDir(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
