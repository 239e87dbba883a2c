package exposure

import (
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// TestKubeProxyModesSameOwners: the same Services programmed by kube-proxy
// in iptables mode and in nftables mode are attributed alike (component,
// Service, kind) on every forwarded port.
func TestKubeProxyModesSameOwners(t *testing.T) {
	owners := func(rs *nf.Ruleset) map[int]string {
		t.Helper()
		if err := nf.Validate(rs); err != nil {
			t.Fatal(err)
		}
		env := nf.NewEnv(netip.MustParseAddr("192.0.2.2"))
		env.Ifaces = []nf.Iface{{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}}
		rep, err := Analyze(Input{Ruleset: rs, Env: env}, Options{Protos: []string{"tcp"}, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, e := range rep.Exposures {
			if e.State == Forwarded && e.PortFrom >= 30000 {
				out[e.PortFrom] = e.Owner.Component + " " + ObjectText(e.Owner) + " " + string(e.Owner.Via)
			}
		}
		return out
	}
	ipt, err := os.ReadFile("../examples/kube-proxy-node.iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	nft, err := os.ReadFile("../examples/kube-proxy-node.nft")
	if err != nil {
		t.Fatal(err)
	}
	a, err := iptables.Parse(ipt, iptables.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := nftables.ParseText(nft, "kube-proxy-node.nft")
	if err != nil {
		t.Fatal(err)
	}
	want, got := owners(a), owners(b)
	if len(want) == 0 {
		t.Fatal("no NodePort found in the iptables-mode example")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("owners by node port (-iptables mode +nftables mode):\n%s", diff)
	}
}
