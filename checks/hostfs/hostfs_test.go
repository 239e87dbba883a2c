package hostfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree makes a root with files (content) and symlinks ("=" + target).
func tree(t *testing.T, entries map[string]string) FS {
	t.Helper()
	root := t.TempDir()
	for p, v := range entries {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if len(v) > 0 && v[0] == '=' {
			err = os.Symlink(v[1:], full)
		} else {
			err = os.WriteFile(full, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return New(root)
}

func TestReadFileFollowsLinksInsideRoot(t *testing.T) {
	h := tree(t, map[string]string{
		"/var/lib/kubelet/config.yaml": "real",
		"/etc/kubernetes/kubelet.conf": "=/var/lib/kubelet/config.yaml",
		"/etc/alias":                   "=kubernetes",
		"/etc/up":                      "=../../../../var/lib/kubelet/config.yaml",
		"/loop/a":                      "=/loop/b",
		"/loop/b":                      "=/loop/a",
	})
	tests := []struct {
		path    string
		want    string
		wantErr error
	}{
		{"/etc/kubernetes/kubelet.conf", "real", nil},
		{"/etc/alias/kubelet.conf", "real", nil},
		{"etc/up", "real", nil},
		{"/loop/a", "", errLoop},
		{"/nope", "", fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := h.ReadFile(tc.path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("ReadFile: got error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("ReadFile: got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestWalkOrder(t *testing.T) {
	h := tree(t, map[string]string{"/d/20.conf": "", "/d/10.conf": "", "/d/sub/05.conf": "", "/d/a.yaml": ""})
	got, err := h.Walk("/d")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/d/10.conf", "/d/20.conf", "/d/a.yaml", "/d/sub/05.conf"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
}

func TestReadlinkAndExists(t *testing.T) {
	h := tree(t, map[string]string{"/run/x": "=dangling-id", "/etc/dir/f": ""})
	if got, err := h.Readlink("/run/x"); err != nil || got != "dangling-id" {
		t.Errorf("Readlink: got %q, %v; want dangling-id", got, err)
	}
	if h.Exists("/run/x") {
		t.Errorf("Exists(dangling link): got true, want false")
	}
	if !h.IsDir("/etc/dir") || h.IsDir("/etc/dir/f") {
		t.Errorf("IsDir: wrong answers for /etc/dir and /etc/dir/f")
	}
}
