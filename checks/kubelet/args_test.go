package kubelet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want Args
	}{
		{"equals form", []string{"--config=/etc/k.yaml"},
			Args{Flags: []Flag{{Name: "config", Value: "/etc/k.yaml", Index: 0}}}},
		{"string flag takes the next argument", []string{"--config", "/etc/k.yaml", "--v=2"},
			Args{Flags: []Flag{{Name: "config", Value: "/etc/k.yaml", Index: 0}, {Name: "v", Value: "2", Index: 2}}}},
		{"bare bool flag is true", []string{"--anonymous-auth", "--port=1"},
			Args{Flags: []Flag{{Name: "anonymous-auth", Value: "true", Index: 0}, {Name: "port", Value: "1", Index: 1}}}},
		{"bool flag never takes the next argument", []string{"--make-iptables-util-chains", "false"},
			Args{Flags: []Flag{{Name: "make-iptables-util-chains", Value: "true", Index: 0}}, Positional: []string{"false"}}},
		{"underscores normalised", []string{"--read_only_port=0"},
			Args{Flags: []Flag{{Name: "read-only-port", Value: "0", Index: 0}}}},
		{"short -v forms", []string{"-v", "3", "-v=4", "-v5", "-h"},
			Args{Flags: []Flag{{Name: "v", Value: "3", Index: 0}, {Name: "v", Value: "4", Index: 2}, {Name: "v", Value: "5", Index: 3}, {Name: "h", Value: "true", Index: 4}}}},
		{"double dash ends flags", []string{"--port=1", "--", "--port=2"},
			Args{Flags: []Flag{{Name: "port", Value: "1", Index: 0}}, Positional: []string{"--port=2"}}},
		{"missing value", []string{"--config"},
			Args{Errs: []string{"flag needs an argument: --config"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseArgs(tc.argv)); diff != "" {
				t.Errorf("ParseArgs(%q) (-want +got):\n%s", tc.argv, diff)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"1", true, false}, {"t", true, false}, {"T", true, false}, {"TRUE", true, false}, {"true", true, false}, {"True", true, false},
		{"0", false, false}, {"f", false, false}, {"F", false, false}, {"FALSE", false, false}, {"false", false, false}, {"False", false, false},
		{"yes", false, true}, {"", false, true}, {"tRuE", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBool(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("ParseBool(%q): got %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestStripProgram(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"path", []string{"/usr/bin/kubelet", "--x"}, []string{"--x"}},
		{"hyperkube", []string{"hyperkube", "kubelet", "--x"}, []string{"--x"}},
		{"flags only", []string{"--x"}, []string{"--x"}},
		{"nothing", []string{"/usr/bin/kubelet"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StripProgram(tc.in)); diff != "" {
				t.Errorf("StripProgram (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("--config=/x --make-iptables-util-chains -v 2 --anonymous-auth=f -- rest")
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitWords(s)
		if err != nil {
			return
		}
		a := ParseArgs(words)
		for _, fl := range a.Flags {
			if fl.Index < 0 || fl.Index >= len(words) {
				t.Fatalf("flag %q index %d outside argv of %d", fl.Name, fl.Index, len(words))
			}
		}
	})
}
