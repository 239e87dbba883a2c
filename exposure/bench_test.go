package exposure

import (
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// kpDump is the ~320,000-rule kube-proxy dump of docs/perf-exposure.md:
// go run ./internal/gen/cmd/genrules -kind kube-proxy-iptables -services 10000 -endpoints 10 -o /tmp/kp.save
func kpDump(b *testing.B) Input {
	path := os.Getenv("EXPOSURE_KP_DUMP")
	if path == "" {
		path = "/tmp/kp.save"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no kube-proxy dump at %s (see docs/perf-exposure.md): %v", path, err)
	}
	rs, err := iptables.Parse(data, iptables.Options{File: path})
	if err != nil {
		b.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		b.Fatal(err)
	}
	env := nf.NewEnv()
	for _, x := range []struct{ name, pfx string }{{"eth0", "192.0.2.2/24"}, {"cni0", "198.18.0.1/15"}} {
		p := netip.MustParsePrefix(x.pfx)
		env.Local[p.Addr()] = true
		env.Ifaces = append(env.Ifaces, nf.Iface{Name: x.name, Addrs: []netip.Prefix{p}})
		env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: x.name})
	}
	env.Routes = append(env.Routes, nf.Route{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Iface: "eth0"})
	return Input{Ruleset: rs, Env: env, Listeners: []Listener{
		{Proto: "tcp", Addr: "0.0.0.0", Port: 22, Wildcard: true, Inode: 1},
		{Proto: "tcp", Addr: "::", Port: 10250, Wildcard: true, Inode: 2},
	}}
}

func benchAnalyze(b *testing.B, opt Options) {
	in := kpDump(b)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		var err error
		if rep, err = Analyze(in, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(len(rep.Exposures)), "ranges")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "ruleset-heap-MiB")
	b.ReportMetric(float64(ms.PauseTotalNs-base.PauseTotalNs)/1e6/float64(b.N), "gc-pause-ms/op")
	// What stays: the ruleset and the last report.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MiB")
	runtime.KeepAlive(rep)
	runtime.KeepAlive(in)
}

// BenchmarkKubeProxyOneClient is nmap's question: one client (--from) on
// one interface, every port × tcp/udp × every local address.
func BenchmarkKubeProxyOneClient(b *testing.B) {
	benchAnalyze(b, Options{Ifaces: []string{"eth0"}, Protos: []string{"tcp", "udp"}, From: netip.MustParseAddr("203.0.113.7")})
}

// BenchmarkKubeProxyAllSources partitions the sources too.
func BenchmarkKubeProxyAllSources(b *testing.B) {
	benchAnalyze(b, Options{Ifaces: []string{"eth0"}, Protos: []string{"tcp", "udp"}})
}
