package kubeproxy

import "testing"

func TestChainHash(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		// Values from kube-proxy's own tests, as recorded in the team notes.
		{name: "service", parts: []string{"ns1/svc1:p80", "tcp"}, want: "XPGD46QRK7WJZT7O"},
		{name: "endpoint", parts: []string{"ns1/svc1:p80", "tcp", "10.180.0.1:80"}, want: "SXIVWICOYRO3J4NJ"},
		// Values from the corpus capture.
		{name: "corpus svc-lb", parts: []string{"default/svc-lb:http", "tcp"}, want: "4RYHO5FPUQVTP2CV"},
		{name: "corpus sep", parts: []string{"default/svc-udp:dns", "udp", "198.51.100.12:5353"}, want: "XGJHT5LXKPF2FQQV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChainHash(tc.parts...); got != tc.want {
				t.Errorf("ChainHash(%q) = %s, want %s", tc.parts, got, tc.want)
			}
		})
	}
}

func TestNFTName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"default/svc-nodeport/tcp/http", "ZJV3QHHJ-default/svc-nodeport/tcp/http"},
		{"default/svc-udp/udp/dns__198.51.100.12/5353", "YDYHCSG6-default/svc-udp/udp/dns__198.51.100.12/5353"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := NFTName(tc.in); got != tc.want {
				t.Errorf("NFTName(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	long := NFTName(string(make([]byte, 300)))
	if len(long) != 240 || long[237:] != "..." {
		t.Errorf("NFTName(300 bytes): got length %d ending %q, want 240 ending \"...\"", len(long), long[len(long)-3:])
	}
}

func TestPortName(t *testing.T) {
	if got, want := PortName("ns", "svc", ""), "ns/svc"; got != want {
		t.Errorf("unnamed port: got %q, want %q", got, want)
	}
	if got, want := PortName("ns", "svc", "http"), "ns/svc:http"; got != want {
		t.Errorf("named port: got %q, want %q", got, want)
	}
}

func TestProbability(t *testing.T) {
	// iptables-save prints kube-proxy's %0.10f back as %.11f of lround(p*2^31)/2^31.
	tests := []struct {
		n    int
		want string
	}{
		{2, "0.50000000000"},
		{3, "0.33333333349"},
		{4, "0.25000000000"},
		{10, "0.10000000009"},
	}
	for _, tc := range tests {
		if got := probability(tc.n); got != tc.want {
			t.Errorf("probability(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestNFTDuration(t *testing.T) {
	tests := []struct {
		secs int
		want string
	}{{10800, "3h"}, {90061, "1d1h1m1s"}, {59, "59s"}, {0, "0s"}}
	for _, tc := range tests {
		if got := nftDuration(tc.secs); got != tc.want {
			t.Errorf("nftDuration(%d) = %s, want %s", tc.secs, got, tc.want)
		}
	}
}
