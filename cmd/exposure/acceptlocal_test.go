package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestTraceAcceptLocal: a NodePort packet from eth0 whose source is the
// node's own eth0 address is a martian source (fib_validate_source) unless
// --accept-local says accept_local is on for eth0 or all; unknown, it is
// taken as 0 with an assumption. Once accepted it is DNATed and forwarded
// as any client's.
func TestTraceAcceptLocal(t *testing.T) {
	tests := []struct {
		name          string
		flags         []string
		wantDelivered string
		wantMartian   bool
		wantAssume    string
	}{
		{"unknown: taken as 0", nil, "none", true, "accept_local of eth0 unknown: taken as 0, the kernel default (fib_validate_source refuses a source that is an address of the node)"},
		{"0", []string{"--accept-local", "0"}, "none", true, "accept_local=0 on eth0 and all: fib_validate_source refuses a source that is an address of the node"},
		{"1 on all", []string{"--accept-local", "all=1"}, "forward", false, ""},
		{"1 on eth0", []string{"--accept-local", "0,eth0=1"}, "forward", false, ""},
		{"1 on another device", []string{"--accept-local", "0,cni0=1"}, "none", true, "accept_local=0 on eth0 and all: fib_validate_source refuses a source that is an address of the node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := traceArgs(append(tc.flags, "-p", "tcp", "-s", "192.0.2.2", "-d", "192.0.2.2", "--dport", "30080", "-i", "eth0", "-o", "json")...)
			code, out, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res struct {
				Outcomes []struct {
					Delivered   string   `json:"delivered"`
					Assumptions []string `json:"assumptions"`
				} `json:"outcomes"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("decode: %v\n%s", err, out)
			}
			if len(res.Outcomes) == 0 {
				t.Fatal("got no outcomes")
			}
			for _, o := range res.Outcomes {
				if o.Delivered != tc.wantDelivered {
					t.Errorf("got delivered %q, want %q (assumptions %q)", o.Delivered, tc.wantDelivered, o.Assumptions)
				}
				martian := slices.ContainsFunc(o.Assumptions, func(a string) bool { return strings.HasPrefix(a, "martian source 192.0.2.2") })
				if martian != tc.wantMartian {
					t.Errorf("got martian assumption %v, want %v (assumptions %q)", martian, tc.wantMartian, o.Assumptions)
				}
				if tc.wantAssume != "" && !slices.Contains(o.Assumptions, tc.wantAssume) {
					t.Errorf("got assumptions %q, want %q among them", o.Assumptions, tc.wantAssume)
				}
			}
		})
	}
}

func TestAcceptLocalFlagErrors(t *testing.T) {
	for _, v := range []string{"2", "=1", "eth0=", "yes"} {
		t.Run(v, func(t *testing.T) {
			code, _, errOut := runCLI(t, traceArgs("--accept-local", v, "-p", "tcp", "-s", "192.0.2.2", "-d", "192.0.2.2", "-i", "eth0")...)
			if code != 2 || !strings.Contains(errOut, "--accept-local") {
				t.Errorf("got exit %d %q, want 2 and an --accept-local error", code, errOut)
			}
		})
	}
}
