package nftables

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// kubeProxyText returns kube-proxy's nftables-mode ruleset for n Services
// with 10 endpoints each (internal/gen/kubeproxy, seed 1), as `nft list
// ruleset` prints it.
var kubeProxyText = memo(func(n int) []byte {
	svcs, err := kubeproxy.Scale(n, 10, 1)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if _, err := kubeproxy.NFTRuleset(&buf, kubeproxy.ScaleNode(), svcs, kubeproxy.Options{}); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// kubeProxyJSON returns the same ruleset as libnftables JSON: the objects
// the text parser builds, which are those `nft -j list ruleset` prints
// (numbers as strings, no handles), so that no kernel is needed to list a
// ruleset it takes minutes to load.
var kubeProxyJSON = memo(func(n int) []byte {
	p, err := newTextParser(kubeProxyText(n), "kp")
	if err != nil {
		panic(err)
	}
	objs := []any{map[string]any{"metainfo": map[string]any{"json_schema_version": 1}}}
	p.b.record = func(it item) { objs = append(objs, map[string]any{it.kind: it.obj}) }
	if err := p.parseAll(); err != nil {
		panic(err)
	}
	data, err := json.Marshal(map[string]any{"nftables": objs})
	if err != nil {
		panic(err)
	}
	return data
})

func memo(f func(int) []byte) func(int) []byte {
	var mu sync.Mutex
	cache := map[int][]byte{}
	return func(n int) []byte {
		mu.Lock()
		defer mu.Unlock()
		if cache[n] == nil {
			cache[n] = f(n)
		}
		return cache[n]
	}
}

var benchSizes = []int{2500, 10000}

func BenchmarkParseText(b *testing.B) {
	for _, n := range benchSizes {
		data := kubeProxyText(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseText(data, "kp"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseJSON(b *testing.B) {
	for _, n := range benchSizes {
		data := kubeProxyJSON(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseJSON(data, "kp"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	data := kubeProxyText(10000)
	for b.Loop() {
		b.StopTimer()
		rs, err := ParseText(data, "kp")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := nf.Validate(rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrace traces first packets through the 10,000-Service ruleset:
// a ClusterIP (10 endpoints: 10 outcomes), a NodePort, and a miss.
func BenchmarkTrace(b *testing.B) {
	rs, err := ParseText(kubeProxyText(10000), "kp")
	if err != nil {
		b.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		b.Fatal(err)
	}
	node := kubeproxy.ScaleNode().IPs[0]
	sim := trace.New(rs, nf.NewEnv(node))
	cases := map[string]trace.Input{
		"clusterip": remote("203.0.113.9", lastClusterIP(rs), nf.ProtoTCP, 80),
		"nodeport":  remote("203.0.113.9", node.String(), nf.ProtoTCP, 30000),
		"miss":      remote("203.0.113.9", "10.0.255.254", nf.ProtoTCP, 80),
	}
	for name, in := range cases {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := sim.Trace(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// lastClusterIP returns the last element of service-ips on port 80.
func lastClusterIP(rs *nf.Ruleset) string {
	s := rs.Tables[0].Sets["service-ips"]
	for i := len(s.Elements) - 1; i >= 0; i-- {
		k := s.Elements[i].Key
		if len(k) == 3 && k[2].Lo == 80 && k[1].Lo == uint64(nf.ProtoTCP) {
			return k[0].AddrLo().String()
		}
	}
	return netip.IPv4Unspecified().String()
}

// TestParseCPU reports the CPU time and peak memory of parsing one file
// (EXPOSURE_PERF_FILE; .json or nft text), for docs/perf-nftables.md.
func TestParseCPU(t *testing.T) {
	name := os.Getenv("EXPOSURE_PERF_FILE")
	if name == "" {
		t.Skip("set EXPOSURE_PERF_FILE to measure a parse")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	parse := ParseText
	if strings.HasSuffix(name, ".json") {
		parse = ParseJSON
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	rs, err := parse(data, name)
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	if err != nil {
		t.Fatal(err)
	}
	cpu := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	t.Logf("%s: %d bytes, %d tables: wall %v, user+sys %v, user %v, max RSS %d MB", name, len(data), len(rs.Tables),
		wall, cpu(after)-cpu(before), time.Duration(after.Utime.Nano()-before.Utime.Nano()), after.Maxrss/1024)
}
