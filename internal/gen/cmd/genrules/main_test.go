package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string // substring of the output file
		wantErr string
	}{
		{name: "iptables", args: []string{"-kind", "kube-proxy-iptables", "-services", "20", "-endpoints", "2"}, want: "*nat\n"},
		{name: "legacy", args: []string{"-flavour", "legacy", "-services", "5"}, want: "*nat\n"},
		{name: "nft", args: []string{"-kind", "kube-proxy-nft", "-services", "20", "-version", "1.32"}, want: "table ip kube-proxy {"},
		{name: "clusterip no nfacct", args: []string{"-mix", "clusterip", "-no-nfacct", "-services", "3"}, want: "KUBE-SVC-"},
		{name: "bad kind", args: []string{"-kind", "calico"}, wantErr: "unknown"},
		{name: "bad flavour", args: []string{"-flavour", "x"}, wantErr: "unknown"},
		{name: "bad mix", args: []string{"-mix", "x"}, wantErr: "unknown"},
		{name: "zero services", args: []string{"-services", "0"}, wantErr: "want 1-"},
		{name: "extra argument", args: []string{"extra"}, wantErr: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rules")
			var stdout, stderr bytes.Buffer
			err := run(append(tc.args, "-o", out), &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run: got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("read output: %v", err)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("output lacks %q", tc.want)
			}
			if !strings.Contains(stderr.String(), "service ports") {
				t.Errorf("summary: got %q, want a line with counts", stderr.String())
			}
		})
	}
}
