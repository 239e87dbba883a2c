package kubeproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir is the shared copy of the real captures (see testdata/corpus/README.md).
const corpusDir = "../../../testdata/corpus/kube-proxy"

// apiList is the part of a v1 List of Services / EndpointSlices / Nodes the corpus adapter reads.
type apiList struct {
	Items []struct {
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Type                     string   `json:"type"`
			ClusterIP                string   `json:"clusterIP"`
			ExternalIPs              []string `json:"externalIPs"`
			LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges"`
			ExternalTrafficPolicy    string   `json:"externalTrafficPolicy"`
			InternalTrafficPolicy    string   `json:"internalTrafficPolicy"`
			HealthCheckNodePort      int      `json:"healthCheckNodePort"`
			SessionAffinity          string   `json:"sessionAffinity"`
			Ports                    []struct {
				Name       string `json:"name"`
				Protocol   string `json:"protocol"`
				Port       int    `json:"port"`
				TargetPort int    `json:"targetPort"`
				NodePort   int    `json:"nodePort"`
			} `json:"ports"`
		} `json:"spec"`
		Status struct {
			LoadBalancer struct {
				Ingress []struct {
					IP string `json:"ip"`
				} `json:"ingress"`
			} `json:"loadBalancer"`
		} `json:"status"`
		Endpoints []struct {
			Addresses  []string `json:"addresses"`
			NodeName   string   `json:"nodeName"`
			Conditions struct {
				Ready bool `json:"ready"`
			} `json:"conditions"`
		} `json:"endpoints"`
	} `json:"items"`
}

func readList(t *testing.T, name string) apiList {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "api-objects", name))
	if err != nil {
		t.Fatalf("read api objects: %v", err)
	}
	var l apiList
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return l
}

// corpusServices converts the corpus's api-objects into generator input; nodeName kp-node is this node.
func corpusServices(t *testing.T) []Service {
	t.Helper()
	slices := readList(t, "endpointslices.json")
	var out []Service
	for _, it := range readList(t, "services.json").Items {
		s := Service{
			Namespace: it.Metadata.Namespace, Name: it.Metadata.Name, Type: ServiceType(it.Spec.Type),
			ClusterIP:             netip.MustParseAddr(it.Spec.ClusterIP),
			ExternalTrafficPolicy: TrafficPolicy(it.Spec.ExternalTrafficPolicy),
			InternalTrafficPolicy: TrafficPolicy(it.Spec.InternalTrafficPolicy),
			HealthCheckNodePort:   it.Spec.HealthCheckNodePort,
			SessionAffinity:       it.Spec.SessionAffinity == "ClientIP",
		}
		for _, ip := range it.Spec.ExternalIPs {
			s.ExternalIPs = append(s.ExternalIPs, netip.MustParseAddr(ip))
		}
		for _, r := range it.Spec.LoadBalancerSourceRanges {
			s.LoadBalancerSourceRanges = append(s.LoadBalancerSourceRanges, netip.MustParsePrefix(r))
		}
		for _, in := range it.Status.LoadBalancer.Ingress {
			s.LoadBalancerIPs = append(s.LoadBalancerIPs, netip.MustParseAddr(in.IP))
		}
		for _, p := range it.Spec.Ports {
			s.Ports = append(s.Ports, Port{Name: p.Name, Protocol: Protocol(p.Protocol), Port: p.Port, TargetPort: p.TargetPort, NodePort: p.NodePort})
		}
		for _, sl := range slices.Items {
			if sl.Metadata.Labels["kubernetes.io/service-name"] != s.Name {
				continue
			}
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready {
					s.Endpoints = append(s.Endpoints, Endpoint{IP: netip.MustParseAddr(ep.Addresses[0]), Local: ep.NodeName == "kp-node"})
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// corpusNode is the node of the capture: 192.0.2.2, --cluster-cidr 198.51.100.0/24, no kubelet.
func corpusNode() Node {
	return Node{IPs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, ClusterCIDR: netip.MustParsePrefix("198.51.100.0/24")}
}

// dump is an iptables-save text split into tables → ordered chain declarations and rules per chain.
type dump struct {
	tables []string
	decls  map[string][]string
	rules  map[string]map[string][]string
}

func parseDump(text string) dump {
	d := dump{decls: map[string][]string{}, rules: map[string]map[string][]string{}}
	var cur string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			cur = line[1:]
			d.tables = append(d.tables, cur)
			d.rules[cur] = map[string][]string{}
		case strings.HasPrefix(line, ":"):
			d.decls[cur] = append(d.decls[cur], line)
		case strings.HasPrefix(line, "-A "):
			chain := strings.Fields(line)[1]
			d.rules[cur][chain] = append(d.rules[cur][chain], line)
		}
	}
	return d
}

// unordered are the chains whose rules follow kube-proxy's random Service iteration order.
var unordered = map[string]bool{
	"nat/KUBE-SERVICES": true, "nat/KUBE-NODEPORTS": true, "filter/KUBE-SERVICES": true,
	"filter/KUBE-EXTERNAL-SERVICES": true, "filter/KUBE-PROXY-FIREWALL": true, "filter/KUBE-NODEPORTS": true,
}

// compareDumps checks that got and want hold the same tables, chain lines and rules; rules of the chains in
// unordered are compared as sorted lists, except that the last nat KUBE-SERVICES rule must stay last.
func compareDumps(t *testing.T, got, want dump) {
	t.Helper()
	if strings.Join(got.tables, ",") != strings.Join(want.tables, ",") {
		t.Errorf("tables: got %v, want %v", got.tables, want.tables)
	}
	for _, tbl := range want.tables {
		if g, w := strings.Join(got.decls[tbl], "\n"), strings.Join(want.decls[tbl], "\n"); g != w {
			t.Errorf("%s chain lines:\ngot:\n%s\nwant:\n%s", tbl, g, w)
		}
		chains := map[string]bool{}
		for c := range want.rules[tbl] {
			chains[c] = true
		}
		for c := range got.rules[tbl] {
			chains[c] = true
		}
		for c := range chains {
			g, w := got.rules[tbl][c], want.rules[tbl][c]
			if unordered[tbl+"/"+c] {
				if tbl == "nat" && c == "KUBE-SERVICES" && len(g) > 0 && len(w) > 0 && g[len(g)-1] != w[len(w)-1] {
					t.Errorf("nat KUBE-SERVICES last rule: got %q, want %q", g[len(g)-1], w[len(w)-1])
				}
				g, w = sorted(g), sorted(w)
			}
			if strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("%s %s rules:\ngot:\n%s\nwant:\n%s", tbl, c, strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		}
	}
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// TestIPTablesSaveMatchesCorpus regenerates the real capture from the Services the capture was made with.
// Differences allowed: the order of rules in the chains listed in unordered (kube-proxy iterates a Go map).
// Everything else — chain lines, rule text, rule order within every other chain, table order, headers — must
// match byte for byte.
func TestIPTablesSaveMatchesCorpus(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		v6      bool
		program string
	}{
		{name: "iptables-nft-save", file: "iptables-mode/01-synced.iptables-nft-save.txt", program: "iptables-nft-save"},
		{name: "iptables-save", file: "iptables-mode/01-synced.iptables-save.txt", program: "iptables-save"},
		{name: "ip6tables-save", file: "iptables-mode/01-synced.ip6tables-save.txt", v6: true, program: "ip6tables-save"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(corpusDir, tc.file))
			if err != nil {
				t.Fatalf("read capture: %v", err)
			}
			opt := Options{Stamp: "Sun Nov 22 15:40:26 2026", Program: tc.program}
			var buf bytes.Buffer
			gen := IPTablesSave
			if tc.v6 {
				gen = IP6TablesSave
			}
			if _, err := gen(&buf, corpusNode(), corpusServices(t), opt); err != nil {
				t.Fatalf("generate: %v", err)
			}
			compareDumps(t, parseDump(buf.String()), parseDump(string(want)))
			if len(buf.Bytes()) != len(want) {
				t.Errorf("size: got %d bytes, want %d", buf.Len(), len(want))
			}
			comments := func(s string) string {
				var out []string
				for _, l := range strings.Split(s, "\n") {
					if strings.HasPrefix(l, "#") {
						out = append(out, l)
					}
				}
				return strings.Join(out, "\n")
			}
			if g, w := comments(buf.String()), comments(string(want)); g != w {
				t.Errorf("header lines:\ngot:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

// scale300 rebuilds the scale-300 objects from the formula in testdata/corpus/kube-proxy/README.md.
func scale300() []Service {
	svcs := []Service{{Namespace: "default", Name: "kubernetes", ClusterIP: netip.MustParseAddr("10.0.0.1"),
		Ports: []Port{{Name: "https", Protocol: TCP, Port: 443, TargetPort: 26443}}}}
	for i := range 300 {
		s := Service{Namespace: "scale", Name: fmt.Sprintf("scale-svc-%03d", i),
			ClusterIP: netip.AddrFrom4([4]byte{10, 0, byte(1 + i/200), byte(1 + i%200)}),
			Ports:     []Port{{Name: "http", Protocol: TCP, Port: 80, TargetPort: 8080}}}
		for k := range 3 {
			s.Endpoints = append(s.Endpoints, Endpoint{IP: netip.AddrFrom4([4]byte{198, 18, byte(i / 80), byte((i%80)*3 + 1 + k)}), Local: k == 0})
		}
		svcs = append(svcs, s)
	}
	return svcs
}

// TestIPTablesSaveMatchesScaleCorpus regenerates the 300-Service capture (900 endpoints, below large cluster mode).
func TestIPTablesSaveMatchesScaleCorpus(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(corpusDir, "scale-300/iptables-mode/01-synced.iptables-save.txt"))
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	node := Node{IPs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, ClusterCIDR: netip.MustParsePrefix("198.18.0.0/15")}
	var buf bytes.Buffer
	st, err := IPTablesSave(&buf, node, scale300(), Options{Stamp: "Sun Nov 22 15:50:06 2026", Program: "iptables-save"})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	compareDumps(t, parseDump(buf.String()), parseDump(string(want)))
	if buf.Len() != len(want) {
		t.Errorf("size: got %d bytes, want %d", buf.Len(), len(want))
	}
	if st.Large {
		t.Errorf("large cluster mode: got true, want false at %d endpoints", st.Endpoints)
	}
}

// corpusServiceCIDRs is the capture's --service-cluster-ip-range.
var corpusServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}
