package kubeobjects

import (
	"bytes"
	"testing"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	"github.com/exposure-audit/exposure/iptables"
	"github.com/exposure-audit/exposure/kube"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// TestObjectsAgreeWithRules: the objects generated for a Service list and
// the kube-proxy rules generated for the same list reconcile without a
// finding about any Service (both modes, comments kept and dropped), and
// every Service port is named by the rules.
func TestObjectsAgreeWithRules(t *testing.T) {
	services, err := kubeproxy.Scale(300, 4, 7)
	if err != nil {
		t.Fatal(err)
	}
	inv := Inventory(services, Options{Nodes: 5})
	if got, want := len(inv.Services), 300; got != want {
		t.Fatalf("got %d Services, want %d", got, want)
	}
	tests := []struct {
		name string
		dump func(*bytes.Buffer) error
		nft  bool
		want []string
	}{
		{"iptables, comments", func(b *bytes.Buffer) error {
			_, err := kubeproxy.IPTablesSave(b, kubeproxy.ScaleNode(), services, kubeproxy.Options{Comments: kubeproxy.CommentsAlways})
			return err
		}, false, []string{string(kube.NodePortOnAllInterfaces)}},
		{"iptables, large cluster mode", func(b *bytes.Buffer) error {
			_, err := kubeproxy.IPTablesSave(b, kubeproxy.ScaleNode(), services, kubeproxy.Options{Comments: kubeproxy.CommentsNever})
			return err
		}, false, []string{string(kube.NodePortOnAllInterfaces)}},
		{"nftables", func(b *bytes.Buffer) error {
			_, err := kubeproxy.NFTRuleset(b, kubeproxy.ScaleNode(), services, kubeproxy.Options{})
			return err
		}, true, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.dump(&b); err != nil {
				t.Fatal(err)
			}
			var rs *nf.Ruleset
			if tc.nft {
				rs, err = nftables.ParseText(b.Bytes(), "gen.nft")
			} else {
				rs, err = iptables.Parse(b.Bytes(), iptables.Options{File: "gen.save"})
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := kube.Reconcile(kube.Input{Inventory: inv, Node: "node-000", Ruleset: rs})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, f := range res.Findings {
				got = append(got, string(f.ID))
				if f.ID != kube.NodePortOnAllInterfaces {
					t.Errorf("got finding %+v, want none about Services", f)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got findings %v, want %v", got, tc.want)
			}
		})
	}
}
