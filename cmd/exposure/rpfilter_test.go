package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestTraceRPFilter: --rp-filter reaches the simulator. With --rules the
// node's routes are not known, so a remote source under reverse-path
// filtering is taken as routed back via the input interface, and said so;
// unknown or 0, nothing is said.
func TestTraceRPFilter(t *testing.T) {
	const taken = "rp_filter 1 (the maximum of eth0's and all's): the source 198.18.0.5 taken as routed back via eth0 (the node's routes do not tell)"
	tests := []struct {
		name       string
		flags      []string
		wantAssume bool
	}{
		{"unknown", nil, false},
		{"0", []string{"--rp-filter", "0"}, false},
		{"1 on all", []string{"--rp-filter", "all=1"}, false},
		{"1 on all and eth0", []string{"--rp-filter", "1"}, true},
		{"1 on eth0, all 0", []string{"--rp-filter", "all=0,eth0=1"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := traceArgs(append(tc.flags, "-p", "tcp", "-s", "198.18.0.5", "-d", "192.0.2.2", "--dport", "30080", "-i", "eth0", "-o", "json")...)
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
				if o.Delivered != "forward" {
					t.Errorf("got delivered %q, want forward (assumptions %q)", o.Delivered, o.Assumptions)
				}
				if got := slices.Contains(o.Assumptions, taken); got != tc.wantAssume {
					t.Errorf("got rp_filter assumption %v, want %v (assumptions %q)", got, tc.wantAssume, o.Assumptions)
				}
			}
		})
	}
}

func TestRPFilterFlagErrors(t *testing.T) {
	for _, v := range []string{"3", "=1", "eth0=", "strict"} {
		t.Run(v, func(t *testing.T) {
			code, _, errOut := runCLI(t, traceArgs("--rp-filter", v, "-p", "tcp", "-s", "198.18.0.5", "-d", "192.0.2.2", "-i", "eth0")...)
			if code != 2 || !strings.Contains(errOut, "--rp-filter") {
				t.Errorf("got exit %d %q, want 2 and an --rp-filter error", code, errOut)
			}
		})
	}
}
