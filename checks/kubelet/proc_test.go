package kubelet

import (
	"fmt"
	"testing"
)

func TestProcessKind(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/kubelet", "--config=x"}, "kubelet"},
		{[]string{"/hyperkube", "kubelet", "--x"}, "kubelet"},
		{[]string{"/usr/local/bin/k3s", "server"}, "k3s"},
		{[]string{"/usr/local/bin/rke2", "agent"}, "rke2"},
		{[]string{"/snap/microk8s/123/kubelite", "--kubelet-args-file=x"}, "microk8s"},
		{[]string{"/usr/bin/microshift", "run"}, "microshift"},
		{[]string{"/usr/bin/kube-proxy"}, ""},
		{nil, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.argv), func(t *testing.T) {
			if got := (Process{Argv: tc.argv}).Kind(); got != tc.want {
				t.Errorf("Kind(%q): got %q, want %q", tc.argv, got, tc.want)
			}
		})
	}
}
