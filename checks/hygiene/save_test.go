package hygiene

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/netfilter"
)

func readCapture(t *testing.T, name string) Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSave(name, data)
	if err != nil {
		t.Fatalf("ReadSave(%s): got error %v, want none", name, err)
	}
	return s
}

// tableSummary is "family/backend/table chains rules" per table.
func tableSummary(s Snapshot) []string {
	var out []string
	for _, t := range s.Tables {
		out = append(out, fmt.Sprintf("%s/%s/%s %03d %03d", t.Family, t.Backend, t.Name, len(t.Chains), len(t.Rules)))
	}
	return out
}

func itoa(n int) string {
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func TestReadSaveCaptures(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"kube-proxy-synced.iptables-nft-save.txt", []string{"ipv4/nf_tables/mangle 006 000", "ipv4/nf_tables/filter 010 019", "ipv4/nf_tables/nat 039 096"}},
		{"kube-proxy-synced.ip6tables-nft-save.txt", []string{"ipv6/nf_tables/mangle 006 000", "ipv6/nf_tables/filter 010 014", "ipv6/nf_tables/nat 009 008"}},
		{"docker-run.iptables-legacy-save.txt", []string{"ipv4/legacy/nat 005 010", "ipv4/legacy/filter 007 014"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tableSummary(readCapture(t, tc.file))); diff != "" {
				t.Errorf("tables (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadSaveRule(t *testing.T) {
	s, err := ReadSave("x", []byte("*filter\n:INPUT ACCEPT [0:0]\n[5:300] -A INPUT -p tcp -j ACCEPT\n-A INPUT -g KUBE-X\nCOMMIT\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Table: "filter", Chain: "INPUT", Index: 1, Text: "-A INPUT -p tcp -j ACCEPT", Target: "ACCEPT"},
		{Table: "filter", Chain: "INPUT", Index: 2, Text: "-A INPUT -g KUBE-X", Target: "KUBE-X"},
	}
	if diff := cmp.Diff(want, s.Tables[0].Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

func TestReadSaveErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantErr  error
	}{
		{"rule outside a table", "-A INPUT -j ACCEPT\n", 1, errNoTable},
		{"table not committed", "*filter\n:INPUT ACCEPT [0:0]\n", 2, errNoCommit},
		{"nested table", "*filter\n*nat\n", 2, errNoCommit},
		{"unexpected line", "*filter\n-I INPUT 1 -j ACCEPT\nCOMMIT\n", 2, errUnknownOp},
		{"commit outside", "COMMIT\n", 1, errNoTable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSave("f", []byte(tc.in))
			var pe *netfilter.ParseError
			if !errors.As(err, &pe) || pe.Line != tc.wantLine || !errors.Is(err, tc.wantErr) {
				t.Errorf("ReadSave: got %v, want a ParseError at line %d wrapping %v", err, tc.wantLine, tc.wantErr)
			}
		})
	}
}

func FuzzReadSave(f *testing.F) {
	for _, name := range []string{"docker-run.iptables-legacy-save.txt", "kube-proxy-synced.ip6tables-nft-save.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSave("fuzz", data)
		if err != nil {
			var pe *netfilter.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *netfilter.ParseError", err)
			}
			return
		}
		_ = Rules(s, Components{Kubelet: "x", Docker: "y", KubeProxy: "z"}, "")
	})
}
