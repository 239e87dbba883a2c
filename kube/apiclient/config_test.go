package apiclient

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeconfig writes a kubeconfig with one cluster and context per server
// (contexts named c0, c1, ...; the current one is c0).
func kubeconfig(t *testing.T, dir, name string, servers ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: c0\nclusters:\n")
	for i, s := range servers {
		b.WriteString("- name: k" + string(rune('0'+i)) + "\n  cluster:\n    server: " + s + "\n")
	}
	b.WriteString("contexts:\n")
	for i := range servers {
		n := string(rune('0' + i))
		b.WriteString("- name: c" + n + "\n  context:\n    cluster: k" + n + "\n    user: u\n")
	}
	b.WriteString("users:\n- name: u\n  user:\n    token: t\n")
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRESTConfig(t *testing.T) {
	dir := t.TempDir()
	explicit := kubeconfig(t, dir, "explicit", "https://explicit:6443", "https://explicit-other:6443")
	envFile := kubeconfig(t, dir, "env", "https://env:6443")
	kubeconfig(t, filepath.Join(dir, "home"), ".kube/config", "https://home:6443")
	noHome := filepath.Join(dir, "nohome")
	tests := []struct {
		name       string
		cfg        Config
		env        map[string]string
		wantServer string
		wantErr    string
	}{
		{"flag wins over $KUBECONFIG", Config{Kubeconfig: explicit, Home: filepath.Join(dir, "home")}, map[string]string{"KUBECONFIG": envFile}, "https://explicit:6443", ""},
		{"context picks the cluster", Config{Kubeconfig: explicit, Context: "c1", Home: noHome}, nil, "https://explicit-other:6443", ""},
		{"$KUBECONFIG before home", Config{Home: filepath.Join(dir, "home")}, map[string]string{"KUBECONFIG": envFile}, "https://env:6443", ""},
		{"$KUBECONFIG list skips missing files", Config{Home: noHome}, map[string]string{"KUBECONFIG": filepath.Join(dir, "missing") + string(os.PathListSeparator) + envFile}, "https://env:6443", ""},
		{"home config", Config{Home: filepath.Join(dir, "home")}, nil, "https://home:6443", ""},
		{"nothing found", Config{Home: noHome}, nil, "", ErrNoConfig.Error()},
		{"missing explicit file", Config{Kubeconfig: filepath.Join(dir, "missing"), Home: noHome}, nil, "", "load kubeconfig"},
		{"unknown context", Config{Kubeconfig: explicit, Context: "nope", Home: noHome}, nil, "", "nope"},
		{"in a pod, no kubeconfig: the service account", Config{Home: noHome}, map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "", "load in-cluster config"},
		{"context without kubeconfig in a pod", Config{Context: "c1", Home: noHome}, map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "", "needs a kubeconfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env["KUBERNETES_SERVICE_HOST"] != "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
				t.Skip("runs in a pod: client-go's in-cluster config would read the real service account")
			}
			tc.cfg.Getenv = func(k string) string { return tc.env[k] }
			rc, src, err := RESTConfig(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != tc.wantServer || src.Server != tc.wantServer {
				t.Errorf("got server %q (source %q), want %q", rc.Host, src.Server, tc.wantServer)
			}
			if rc.Timeout == 0 || rc.UserAgent == "" {
				t.Errorf("got timeout %v, user agent %q, want both set", rc.Timeout, rc.UserAgent)
			}
		})
	}
}

func TestRESTConfigNoConfigIsSentinel(t *testing.T) {
	_, _, err := RESTConfig(Config{Home: t.TempDir(), Getenv: func(string) string { return "" }})
	if !errors.Is(err, ErrNoConfig) {
		t.Errorf("got %v, want ErrNoConfig", err)
	}
}
