package kube_test

import (
	"bytes"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/gen/kubeobjects"
	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	"github.com/exposure-audit/exposure/iptables"
	"github.com/exposure-audit/exposure/kube"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// BenchmarkReconcile joins and reconciles a 10,000-Service cluster (50,000
// Pods, 10,000 EndpointSlices, 100 Nodes) against its node's kube-proxy
// dump, after parsing and after the exposure map (both done once, outside
// the timing):
//
//	go test ./kube -run XXX -bench Reconcile -benchmem
//
// clusterip-320k is the reference dump of docs/PERFORMANCE.md (genrules
// -mix clusterip -comments always -services 10000 -endpoints 10: 320,023
// rules); mix-376k is the realistic mix (NodePort, LoadBalancer, Local,
// externalIPs; -services 10000 -endpoints 10 -seed 1), in large cluster
// mode as kube-proxy writes it above 1000 endpoints.
func BenchmarkReconcile(b *testing.B) {
	b.Run("clusterip-320k", func(b *testing.B) {
		services, err := kubeproxy.ScaleClusterIP(10000, 10)
		if err != nil {
			b.Fatal(err)
		}
		benchReconcile(b, services, kubeproxy.Options{Comments: kubeproxy.CommentsAlways})
	})
	b.Run("mix-376k", func(b *testing.B) {
		services, err := kubeproxy.Scale(10000, 10, 1)
		if err != nil {
			b.Fatal(err)
		}
		benchReconcile(b, services, kubeproxy.Options{})
	})
}

func benchReconcile(b *testing.B, services []kubeproxy.Service, opt kubeproxy.Options) {
	in := benchInput(b, services, opt)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var res *kube.Result
	for b.Loop() {
		var err error
		if res, err = kube.Reconcile(in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(len(res.Findings)), "findings")
	byID := map[kube.FindingID]int{}
	for _, f := range res.Findings {
		byID[f.ID]++
	}
	b.Logf("findings by id: %v", byID)
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "MB-heap-before")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MB-alloc/op")
}

// benchInput generates the dump and the objects, parses the dump and maps
// the node's exposure (tcp and udp, whole port space of 192.0.2.2 on eth0).
func benchInput(b *testing.B, services []kubeproxy.Service, opt kubeproxy.Options) kube.Input {
	b.Helper()
	var dump bytes.Buffer
	st, err := kubeproxy.IPTablesSave(&dump, kubeproxy.ScaleNode(), services, opt)
	if err != nil {
		b.Fatal(err)
	}
	rs, err := iptables.Parse(dump.Bytes(), iptables.Options{File: "kube-proxy.save"})
	if err != nil {
		b.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		b.Fatal(err)
	}
	inv := kubeobjects.Inventory(services, kubeobjects.Options{Pods: 50000, Nodes: 100})
	env := nf.NewEnv(netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("198.18.0.1"))
	env.Ifaces = []nf.Iface{{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "cni0", Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/15")}}}
	ls := []exposure.Listener{{Proto: "tcp", Addr: "0.0.0.0", Port: 22, Wildcard: true, PID: 1, Process: "sshd"}}
	rep, err := exposure.Analyze(exposure.Input{Ruleset: rs, Env: env, Listeners: ls},
		exposure.Options{Protos: []string{"tcp", "udp"}, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, Ifaces: []string{"eth0"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d rules, %d Services, %d Pods, %d EndpointSlices, %d exposures", st.Rules, len(inv.Services), len(inv.Pods), len(inv.EndpointSlices), len(rep.Exposures))
	return kube.Input{Inventory: inv, Node: "node-000", Report: rep, Ruleset: rs, Listeners: ls, Env: env}
}
