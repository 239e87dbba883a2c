package trace_test

import (
	"bytes"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

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

// parseDump parses and validates the dump as the CLI does: from a string
// the model's texts point into.
func parseDump(b *testing.B, dump string) *nf.Ruleset {
	rs, err := iptables.ParseString(dump, iptables.Options{File: "kube-proxy-10k"})
	if err != nil {
		b.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		b.Fatal(err)
	}
	return rs
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseKubeProxy10k parses and validates the dump; cpu-ms/op is
// the CPU time of every goroutine (parsing workers and the garbage
// collector included), ruleset-MB the live heap the parsed ruleset adds to
// the dump it points into, heap-MB the whole live heap (the generator's
// data included).
func BenchmarkParseKubeProxy10k(b *testing.B) {
	raw, _ := benchData(b)
	dump := string(raw)
	b.SetBytes(int64(len(dump)))
	var rs *nf.Ruleset
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		rs = parseDump(b, dump)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/1e6, "heap-MB")
	b.ReportMetric(float64(int64(m.HeapAlloc)-int64(before.HeapAlloc))/1e6, "ruleset-MB")
	b.ReportMetric(float64(len(dump))/1e6, "dump-MB")
	runtime.KeepAlive(rs)
}

// BenchmarkTraceKubeProxy10k traces one TCP SYN per iteration on the
// 10k-Service node: to a ClusterIP (ten endpoints: a 10-way fork, DNAT,
// forwarding), to a closed port of the node (no Service), and to a node
// port of the realistic mix's NodePort Services.
func BenchmarkTraceKubeProxy10k(b *testing.B) {
	dump, svcs := benchData(b)
	sim := trace.New(parseDump(b, string(dump)), nf.NewEnv(netip.MustParseAddr("192.0.2.2")))
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
			// p50-µs is the median of the traces timed one by one;
			// cpu-µs/op the process's CPU time per trace, the garbage
			// collector's share included.
			took := make([]time.Duration, b.N)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				res, err := sim.Trace(bc.ins[i%len(bc.ins)])
				took[i] = time.Since(t0)
				if err != nil || len(res.Outcomes) == 0 {
					b.Fatalf("trace: %v (%d outcomes)", err, len(res.Outcomes))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs")
		})
	}
}
