package trace_test

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"regexp"
	"testing"

	"github.com/exposure-audit/exposure/internal/gen/randrules"
	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// nfacct matches need accounting objects that only kube-proxy creates; the
// lab loads the rules without them (they always match).
var nfacctRE = regexp.MustCompile(` -m nfacct --nfacct-name +\S+`)

func shapeText(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return nfacctRE.ReplaceAllString(string(data), "")
}

// shapeProbes aims probes at the rules of a real-shaped ruleset: each
// rule's protocol, destination and destination port, sent from the lab's
// unroutable probe range to the address the rule names or to a node
// address (where NodePorts and host ports answer).
func shapeProbes(t *testing.T, text string) []randrules.Probe {
	t.Helper()
	rs, err := iptables.Parse([]byte(text), iptables.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []randrules.Probe
	add := func(proto uint8, dst netip.Addr, dport uint16, via string) {
		key := fmt.Sprint(proto, dst, dport, via)
		if seen[key] || len(out) >= 80 {
			return
		}
		seen[key] = true
		out = append(out, randrules.Probe{Aim: key, Probe: netns.Probe{Src: netip.AddrFrom4([4]byte{198, 18, 7, byte(len(out))}),
			Dst: dst, Proto: proto, SPort: uint16(33000 + len(out)), DPort: dport, TCPFlags: netns.SYN, Via: via}})
	}
	node := netip.MustParseAddr("198.51.100.1")
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				proto, dst, dport := ruleAim(r)
				if proto == 0 {
					continue
				}
				if dst.IsValid() {
					add(proto, dst, dport, "c0")
				}
				add(proto, node, dport, "c0")
				add(proto, netip.MustParseAddr("192.0.2.129"), dport, "c2")
			}
		}
	}
	return out
}

// ruleAim reads the protocol, destination and port a rule asks for.
func ruleAim(r *nf.Rule) (uint8, netip.Addr, uint16) {
	proto, port := uint8(0), uint16(0)
	var dst netip.Addr
	for _, e := range r.Exprs {
		m, ok := e.(*nf.FieldMatch)
		if !ok || m.Neg || len(m.Values) == 0 {
			continue
		}
		v := m.Values[0]
		switch m.Field {
		case nf.FieldProto:
			proto = uint8(v.Lo)
		case nf.FieldDPort, nf.FieldPorts:
			port = uint16(v.Lo)
		case nf.FieldDst:
			if a := v.AddrLo(); a.Is4() {
				dst = a
			}
		}
	}
	if proto != nf.ProtoTCP && proto != nf.ProtoUDP {
		return 0, dst, 0
	}
	if port == 0 {
		port = 80
	}
	return proto, dst, port
}

// TestKernelShapes runs the differential test on the Docker, kube-proxy
// and OVN-Kubernetes node rulesets of examples/, both backends.
func TestKernelShapes(t *testing.T) {
	lab := netns.New(t)
	env := labEnv(lab)
	agree, total := 0, 0
	for _, f := range []string{"../examples/kube-proxy-node.iptables-save", "../examples/openshift-ovnk-node.iptables-save", "../examples/docker-host.iptables-save"} {
		text := shapeText(t, f)
		probes := shapeProbes(t, text)
		for _, b := range []netns.Backend{netns.Legacy, netns.NFT} {
			a, n := differential(t, lab, env, b, false, text, probes, fmt.Sprintf("%s/%s", f, b))
			agree, total = agree+a, total+n
		}
	}
	t.Logf("kernel agreement on real-shaped rulesets: %d/%d probes", agree, total)
}

// TestKernelStatistic sends many new flows to a kube-proxy Service with
// three endpoints and checks, with a chi-square test, that the kernel's
// endpoint counts follow the probabilities the simulator reports.
func TestKernelStatistic(t *testing.T) {
	lab := netns.New(t)
	env := labEnv(lab)
	text := shapeText(t, "../examples/kube-proxy-node.iptables-save")
	if err := lab.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := lab.RestoreIptables(netns.NFT, false, text); err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.Parse([]byte(text), iptables.Options{Backend: nf.BackendIptablesNft})
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	svc := netip.MustParseAddr("10.0.0.10") // default/svc-clusterip:https, three endpoints
	in := probeInput(netns.Probe{Src: netip.MustParseAddr("198.18.9.1"), Dst: svc, Proto: netns.ProtoTCP, SPort: 1, DPort: 443, TCPFlags: netns.SYN, Via: "c0"})
	res, err := trace.New(rs, env).Trace(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, o := range res.Outcomes {
		want[lastDNAT(o)] += o.Probability
	}
	if len(want) < 2 {
		t.Fatalf("want a Service with several endpoints, got outcomes %v", want)
	}
	const n = 600
	var probes []netns.Probe
	for i := 0; i < n; i++ {
		probes = append(probes, netns.Probe{Src: netip.AddrFrom4([4]byte{198, 18, 9, byte(1 + i%250)}), Dst: svc, Proto: netns.ProtoTCP, SPort: uint16(20000 + i), DPort: 443, TCPFlags: netns.SYN, Via: "c0"})
	}
	if err := lab.FlushConntrack(); err != nil {
		t.Fatal(err)
	}
	if err := lab.ZeroCounters(netns.NFT, false); err != nil {
		t.Fatal(err)
	}
	if err := lab.InjectN(probes); err != nil {
		t.Fatal(err)
	}
	got := kernelCounts(t, lab, netns.NFT, false)
	chi2, df := 0.0, len(want)-1
	for key, p := range want {
		exp := p * n
		obs := float64(got[counterKey(key)])
		chi2 += (obs - exp) * (obs - exp) / exp
		t.Logf("%s: kernel %v of %d, simulator probability %.4f (expected %.1f)", key, obs, n, p, exp)
	}
	// 0.999 quantiles of chi-square with 1..4 degrees of freedom.
	limit := []float64{0, 10.83, 13.82, 16.27, 18.47}[min(df, 4)]
	if chi2 > limit || math.IsNaN(chi2) {
		t.Errorf("chi-square %.2f with %d degrees of freedom exceeds %.2f: kernel frequencies disagree with the simulated probabilities", chi2, df, limit)
	}
}

// lastDNAT names the DNAT rule of an outcome's path (its counter key).
func lastDNAT(o trace.Outcome) string {
	for i := len(o.Path) - 1; i >= 0; i-- {
		if s := o.Path[i]; s.Target == "DNAT" {
			return string(ruleKey(s.Table, s.Chain, s.Rule))
		}
	}
	return "none"
}
