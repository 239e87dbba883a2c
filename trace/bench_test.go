package trace_test

import (
	"bytes"
	"net/netip"
	"runtime"
	"sync"
	"testing"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// The benchmark node: 10,000 ClusterIP Services × 10 endpoints in
// kube-proxy's iptables mode, ~320,000 rules (docs/PERFORMANCE.md).
var (
	benchOnce     sync.Once
	benchDump     []byte
	benchServices []kubeproxy.Service
)

func benchData(b *testing.B) ([]byte, []kubeproxy.Service) {
	benchOnce.Do(func() {
		svcs, err := kubeproxy.ScaleClusterIP(10000, 10)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := kubeproxy.IPTablesSave(&buf, kubeproxy.ScaleNode(), svcs, kubeproxy.Options{Comments: kubeproxy.CommentsAlways}); err != nil {
			b.Fatal(err)
		}
		benchDump, benchServices = buf.Bytes(), svcs
	})
	return benchDump, benchServices
}

func parseDump(b *testing.B, dump []byte) *nf.Ruleset {
	rs, err := iptables.Parse(dump, iptables.Options{File: "kube-proxy-10k"})
	if err != nil {
		b.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		b.Fatal(err)
	}
	return rs
}

// BenchmarkParseKubeProxy10k parses and validates the dump; heap-MB is the
// live heap the parsed ruleset holds (the dump itself excluded).
func BenchmarkParseKubeProxy10k(b *testing.B) {
	dump, _ := benchData(b)
	b.SetBytes(int64(len(dump)))
	var rs *nf.Ruleset
	b.ResetTimer()
	for range b.N {
		rs = parseDump(b, dump)
	}
	b.StopTimer()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/1e6, "heap-MB")
	b.ReportMetric(float64(len(dump))/1e6, "dump-MB")
	runtime.KeepAlive(rs)
}

// BenchmarkTraceKubeProxy10k traces one TCP SYN per iteration on the
// 10k-Service node: to a ClusterIP (ten endpoints: a 10-way fork, DNAT,
// forwarding), to a closed port of the node (no Service), and to a node
// port of the realistic mix's NodePort Services.
func BenchmarkTraceKubeProxy10k(b *testing.B) {
	dump, svcs := benchData(b)
	sim := trace.New(parseDump(b, dump), nf.NewEnv(netip.MustParseAddr("192.0.2.2")))
	pkt := func(dst netip.Addr, port int) trace.Input {
		return trace.Input{Packet: nf.Packet{Proto: nf.ProtoTCP, Src: netip.MustParseAddr("203.0.113.9"),
			Dst: dst, SPort: 40000, DPort: uint16(port), TCPFlags: nf.TCPSyn, InIface: "eth0", OutIface: "eth1"}}
	}
	var cluster, closed []trace.Input
	for i := 0; i < len(svcs) && len(cluster) < 1000; i += len(svcs) / 1000 {
		cluster = append(cluster, pkt(svcs[i].ClusterIP, svcs[i].Ports[0].Port))
		closed = append(closed, pkt(netip.MustParseAddr("192.0.2.2"), 1000+i%2000))
	}
	for _, bc := range []struct {
		name string
		ins  []trace.Input
	}{{"ClusterIP", cluster}, {"ClosedNodePort", closed}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				res, err := sim.Trace(bc.ins[i%len(bc.ins)])
				if err != nil || len(res.Outcomes) == 0 {
					b.Fatalf("trace: %v (%d outcomes)", err, len(res.Outcomes))
				}
			}
		})
	}
}
