package logs

import (
	"os"
	"testing"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/nftables"
)

// TestFirewalldPortsOf reads firewalld's runtime ports from the real
// captures after `firewall-cmd --zone=public --add-port=8080/tcp`, both
// backends, and says "unknown" (nil) for a ruleset without firewalld.
func TestFirewalldPortsOf(t *testing.T) {
	dir := "../testdata/corpus/firewalld/"
	load := map[string]func([]byte, string) (*nf.Ruleset, error){
		dir + "iptables-backend/11-iptables-backend-after-add-port.iptables-nft-save.txt": func(d []byte, f string) (*nf.Ruleset, error) {
			return iptables.Parse(d, iptables.Options{File: f})
		},
		dir + "nftables-backend/02-after-runtime-add-port.nft-list-ruleset.txt": nftables.ParseText,
	}
	for file, parse := range load {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := parse(data, file)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range FirewalldPortsOf(rs) {
			found = found || (p.Zone == "public" && p.Proto == "tcp" && p.Port == 8080)
		}
		if !found {
			t.Errorf("%s: got %+v, want public tcp/8080 among the ports", file, FirewalldPortsOf(rs))
		}
	}
	empty, _ := iptables.Parse([]byte("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"), iptables.Options{})
	if got := FirewalldPortsOf(empty); got != nil {
		t.Errorf("without firewalld chains: got %v, want nil (unknown)", got)
	}
}
