package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestTraceRouteLocalnet: a packet from eth0 to 127.0.0.1 is a martian
// unless --route-localnet says route_localnet is on; unknown, it is taken
// as 0 with an assumption. With it on, kube-proxy's own KUBE-FIREWALL rule
// ("block incoming localnet connections") drops it instead; a NodePort
// DNAT away from 127.0.0.1 is routed by its new destination whatever the
// setting.
func TestTraceRouteLocalnet(t *testing.T) {
	tests := []struct {
		name          string
		flags         []string
		dport         string
		wantDelivered string
		wantMartian   bool
		wantAssume    string
	}{
		{"unknown: taken as 0", nil, "22", "none", true, "route_localnet of eth0 unknown: taken as 0, the kernel default"},
		{"0", []string{"--route-localnet", "0"}, "22", "none", true, "route_localnet=0 on eth0 and all"},
		{"1 on all: KUBE-FIREWALL drops it", []string{"--route-localnet", "all=1"}, "22", "none", false, ""},
		{"1 on another device", []string{"--route-localnet", "0,eth1=1"}, "22", "none", true, "route_localnet=0 on eth0 and all"},
		{"NodePort DNAT leaves 127.0.0.1", []string{"--route-localnet", "0"}, "30080", "forward", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := traceArgs(append(tc.flags, "-p", "tcp", "-s", "192.0.2.1", "-d", "127.0.0.1", "--dport", tc.dport, "-i", "eth0", "-o", "json")...)
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
				martian := slices.ContainsFunc(o.Assumptions, func(a string) bool { return strings.HasPrefix(a, "martian destination 127.0.0.1") })
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

func TestRouteLocalnetFlagErrors(t *testing.T) {
	for _, v := range []string{"2", "=1", "eth0=", "yes"} {
		t.Run(v, func(t *testing.T) {
			code, _, errOut := runCLI(t, traceArgs("--route-localnet", v, "-p", "tcp", "-s", "192.0.2.1", "-d", "127.0.0.1", "-i", "eth0")...)
			if code != 2 || !strings.Contains(errOut, "--route-localnet") {
				t.Errorf("got exit %d %q, want 2 and a --route-localnet error", code, errOut)
			}
		})
	}
}
