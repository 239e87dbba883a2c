package hygiene

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
)

// node builds a host tree: files (path → content) and symlinks (path →
// target, "=" prefix in the value).
func node(t *testing.T, entries map[string]string) hostfs.FS {
	t.Helper()
	root := t.TempDir()
	for p, v := range entries {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(v, "="); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return hostfs.New(root)
}

const (
	iptablesUnit = "/usr/lib/systemd/system/iptables.service"
	enabledLink  = "/etc/systemd/system/basic.target.wants/iptables.service"
	activeLink   = "/run/systemd/units/invocation:iptables.service"
	sysconfig    = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
)

func TestReadUnit(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		want    string
	}{
		{"not installed", map[string]string{}, "not installed"},
		{"installed only", map[string]string{iptablesUnit: "[Service]\n"}, "disabled, inactive"},
		{"enabled", map[string]string{iptablesUnit: "[Service]\n", enabledLink: "=" + iptablesUnit}, "enabled, inactive"},
		{"enabled and active", map[string]string{iptablesUnit: "[Service]\n", enabledLink: "=" + iptablesUnit, activeLink: "=0123abcd"}, "enabled, active"},
		{"masked", map[string]string{iptablesUnit: "[Service]\n", "/etc/systemd/system/iptables.service": "=/dev/null", enabledLink: "=" + iptablesUnit}, "masked, inactive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReadUnit(node(t, tc.entries), "iptables.service").State(); got != tc.want {
				t.Errorf("State: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRestoreServices(t *testing.T) {
	enabled := map[string]string{iptablesUnit: "[Service]\n", enabledLink: "=" + iptablesUnit, "/etc/sysconfig/iptables": sysconfig}
	tests := []struct {
		name        string
		entries     map[string]string
		cs          Components
		wantStatus  checks.Status
		wantMessage string
	}{
		{"enabled next to the kubelet", enabled, Components{Kubelet: "pid 1"}, checks.Fail,
			"iptables.service is enabled, inactive next to kubelet: at every start it flushes and restores /etc/sysconfig/iptables: flushes tables filter, nat and loads 2 rules with no KUBE-*, DOCKER or OVN-KUBE-* chain, so those rules are lost until their owners resync"},
		{"enabled without Kubernetes or Docker", enabled, Components{}, checks.Info,
			"iptables.service is enabled, inactive; no Kubernetes or Docker component found"},
		{"disabled next to Docker", map[string]string{iptablesUnit: "[Service]\n"}, Components{Docker: "pid 2"}, checks.Pass,
			"iptables.service is disabled, inactive"},
		{"save file unreadable", map[string]string{iptablesUnit: "[Service]\n", activeLink: "=x"}, Components{Docker: "pid 2"}, checks.Fail,
			"iptables.service is disabled, active next to docker: at every start it flushes and restores /etc/sysconfig/iptables (unreadable: read /etc/sysconfig/iptables: no such file or directory; the service then fails or loads nothing)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := RestoreServices(node(t, tc.entries), tc.cs)[0]
			if r.Status != tc.wantStatus || r.Message != tc.wantMessage {
				t.Errorf("got %s %q, want %s %q", r.Status, r.Message, tc.wantStatus, tc.wantMessage)
			}
		})
	}
}

func TestFirewalldAndIptables(t *testing.T) {
	fw := "/usr/lib/systemd/system/firewalld.service"
	tests := []struct {
		name    string
		entries map[string]string
		want    checks.Status
	}{
		{"both enabled", map[string]string{fw: "x", "/etc/systemd/system/multi-user.target.wants/firewalld.service": "=" + fw,
			iptablesUnit: "x", enabledLink: "=" + iptablesUnit}, checks.Fail},
		{"firewalld active, iptables enabled", map[string]string{fw: "x", "/run/systemd/units/invocation:firewalld.service": "=x",
			iptablesUnit: "x", enabledLink: "=" + iptablesUnit}, checks.Fail},
		{"firewalld only", map[string]string{fw: "x", "/etc/systemd/system/multi-user.target.wants/firewalld.service": "=" + fw}, checks.Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FirewalldAndIptables(node(t, tc.entries)).Status; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	snap, err := FromSave("x", []byte("*nat\n:KUBE-SERVICES - [0:0]\n:DOCKER - [0:0]\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := SaveSummary{Tables: []string{"nat"}, Rules: 1, ComponentChains: []string{"DOCKER", "KUBE-SERVICES"}}
	if diff := cmp.Diff(want, Summarize(snap)); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

func TestComponentsFromProcess(t *testing.T) {
	cs := Components{}
	cs.FromProcess([]string{"/usr/bin/python3", "/usr/sbin/firewalld", "--nofork"}, "/proc/5")
	cs.FromProcess([]string{"/usr/local/bin/kube-proxy", "--config=/x"}, "/proc/6")
	cs.FromProcess([]string{"/usr/bin/bash"}, "/proc/7")
	want := Components{Firewalld: "/proc/5 /usr/bin/python3 /usr/sbin/firewalld", KubeProxy: "/proc/6 /usr/local/bin/kube-proxy --config=/x"}
	if diff := cmp.Diff(want, cs); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
}
