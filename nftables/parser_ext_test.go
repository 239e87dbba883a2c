package nftables_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/exposure-audit/exposure/collect"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
	"github.com/exposure-audit/exposure/trace"
)

// Parser is the nftables front-end collect.Loader dispatches to.
var _ collect.NftParser = nftables.Parser{}

// TestLoaderMixesFormats: an iptables-save file and an nft JSON dump load
// into one ruleset, and one trace crosses both (a mixed node).
func TestLoaderMixesFormats(t *testing.T) {
	legacy := filepath.Join(t.TempDir(), "iptables-legacy-save.txt")
	rules := "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n"
	if err := os.WriteFile(legacy, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	l := collect.Loader{Nft: nftables.Parser{}}
	rs, err := l.LoadFiles(legacy, "testdata/corpus/firewalld_nftables-backend_07-after-runtime-extras.json")
	if err != nil {
		t.Fatal(err)
	}
	in := trace.Input{Packet: nf.Packet{Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("198.51.100.1"),
		Proto: nf.ProtoTCP, SPort: 40000, DPort: 22, TCPFlags: nf.TCPSyn, InIface: "eth0"}}
	res, err := trace.New(rs, nf.NewEnv(netip.MustParseAddr("198.51.100.1"))).Trace(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outcomes) != 1 {
		t.Fatalf("got %d outcomes, want 1", len(res.Outcomes))
	}
	o := res.Outcomes[0]
	tables := map[string]bool{}
	for _, s := range o.Path {
		tables[s.Family+" "+s.Table] = true
	}
	if o.Verdict != "DROP" || !tables["inet firewalld"] || !tables["ip filter"] {
		t.Errorf("got %s through %v, want DROP by the legacy filter INPUT (priority 0, before firewalld's filter_INPUT at 10) after firewalld's PREROUTING chains", o.Verdict, tables)
	}
}
