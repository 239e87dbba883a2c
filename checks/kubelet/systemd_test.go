package kubelet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// writeTree creates files (path → content) under a temporary root.
func writeTree(t *testing.T, files map[string]string) hostfs.FS {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostfs.New(root)
}

func TestFromSystemd(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    Invocation
		wantErr bool
	}{
		{"$VAR splits into words, ${VAR} stays one word, drop-in resets ExecStart", map[string]string{
			"/lib/systemd/system/kubelet.service":             "[Service]\nExecStart=/usr/bin/kubelet --old\n",
			"/etc/systemd/system/kubelet.service.d/20-x.conf": "[Service]\nEnvironment=\"A=--a=1 --b=2\" B=--c\nExecStart=\nExecStart=/usr/bin/kubelet $A ${B}=x \\\n  --d\n",
		}, Invocation{Argv: []string{"--a=1", "--b=2", "--c=x", "--d"}, Cwd: "/",
			Origin: []string{"/etc/systemd/system/kubelet.service.d/20-x.conf", "/etc/systemd/system/kubelet.service.d/20-x.conf",
				"/etc/systemd/system/kubelet.service.d/20-x.conf", "/etc/systemd/system/kubelet.service.d/20-x.conf"},
			Source: "systemd unit /lib/systemd/system/kubelet.service"}, false},
		{"EnvironmentFile overrides Environment, /etc masks same-named drop-in", map[string]string{
			"/usr/lib/systemd/system/kubelet.service":             "[Service]\nEnvironment=X=--from-unit\nEnvironmentFile=/etc/sysconfig/kubelet\nWorkingDirectory=/var/lib/kubelet\nExecStart=/usr/bin/kubelet $X\n",
			"/etc/sysconfig/kubelet":                              "# comment\nX=\"--from-file=1\"\n",
			"/usr/lib/systemd/system/kubelet.service.d/10-a.conf": "[Service]\nEnvironment=X=--masked\n",
			"/etc/systemd/system/kubelet.service.d/10-a.conf":     "[Service]\n",
		}, Invocation{Argv: []string{"--from-file=1"}, Origin: []string{"/etc/sysconfig/kubelet"}, Cwd: "/var/lib/kubelet",
			Source: "systemd unit /usr/lib/systemd/system/kubelet.service"}, false},
		{"missing mandatory EnvironmentFile", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nEnvironmentFile=/nope\nExecStart=/usr/bin/kubelet\n",
		}, Invocation{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := FromSystemd(writeTree(t, tc.files), "kubelet.service")
			if !ok || (err != nil) != tc.wantErr {
				t.Fatalf("FromSystemd: got ok=%v err=%v, want ok, error %v", ok, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FromSystemd (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEnvFile(t *testing.T) {
	got := ParseEnvFile([]byte("# c\n; c\nA=1\nexport B='x y'\nC=\"--a=1 --b=\\\"2\\\"\"\nbad line\n"))
	want := map[string]string{"A": "1", "B": "x y", "C": `--a=1 --b="2"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseEnvFile (-want +got):\n%s", diff)
	}
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("KUBELET_KUBEADM_ARGS=\"--a=1 --b\"\n#x\nY='z'\\\n w\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k := range ParseEnvFile(data) {
			if len(k) > len(data) {
				t.Fatalf("key %q longer than input", k)
			}
		}
	})
}
