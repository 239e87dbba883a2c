package netns

import (
	"encoding/json"
	"testing"
)

// TestRouteOfMatchesKernel compares RouteOf with "ip route get" in the node.
func TestRouteOfMatchesKernel(t *testing.T) {
	lab := New(t)
	for _, s := range []string{"198.51.100.1", "203.0.113.1", "192.0.2.129", "127.0.0.1", "127.1.2.3",
		"198.51.100.255", "192.0.2.255", "198.51.100.2", "192.0.2.130", "203.0.113.2", "203.0.113.77",
		"10.1.2.3", "100.64.7.9", "198.18.0.1", "198.19.255.254", "8.8.8.8",
		"2001:db8:1::1", "2001:db8:2::1", "::1", "2001:db8:1::2", "2001:db8:2::2", "2001:db8:3::9",
		"2001:db8:aa00::5", "2001:db8:ff00::1", "2001:db8:ffff::1", "2001:db8:ab00::80"} {
		t.Run(s, func(t *testing.T) {
			want := kernelRoute(t, lab, s)
			got, ok := RouteOf(addr(s))
			if !ok || got != want {
				t.Errorf("RouteOf(%s): got %+v (ok %t), want %+v as ip route get says", s, got, ok, want)
			}
		})
	}
}

// kernelRoute asks the node's kernel for its route to s.
func kernelRoute(t *testing.T, lab *Lab, s string) Route {
	t.Helper()
	out, err := lab.Run(lab.NodeNS, "", "ip", "-j", "route", "get", s)
	if err != nil {
		return Route{Unreachable: true} // "RTNETLINK answers: No route to host"
	}
	var rs []struct {
		Type string `json:"type"`
		Dev  string `json:"dev"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 {
		t.Fatalf("parse ip route get %s: %v: %s", s, err, out)
	}
	local := rs[0].Type == "local" || rs[0].Type == "broadcast"
	if local {
		return Route{Dev: "lo", Local: true}
	}
	return Route{Dev: rs[0].Dev}
}
