package exposure

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// loadExample parses examples/NAME.iptables-save and NAME.local-addrs.
func loadExample(t testing.TB, name string) Input {
	t.Helper()
	dir := filepath.Join("..", "examples")
	data, err := os.ReadFile(filepath.Join(dir, name+".iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.Parse(data, iptables.Options{File: name})
	if err != nil {
		t.Fatal(err)
	}
	if err := nf.Validate(rs); err != nil {
		t.Fatal(err)
	}
	addrs, err := os.ReadFile(filepath.Join(dir, name+".local-addrs"))
	if err != nil {
		t.Fatal(err)
	}
	return Input{Ruleset: rs, Env: envFromLocalAddrs(t, string(addrs))}
}

// envFromLocalAddrs reads "iface addr/prefix" lines (collect.ParseLocalAddrs
// does the same; collect imports this package, so tests cannot use it).
func envFromLocalAddrs(t testing.TB, text string) *nf.Env {
	env := nf.NewEnv()
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		p, err := netip.ParsePrefix(f[1])
		if err != nil {
			t.Fatal(err)
		}
		env.Local[p.Addr()] = true
		i := len(env.Ifaces)
		for j, x := range env.Ifaces {
			if x.Name == f[0] {
				i = j
			}
		}
		if i == len(env.Ifaces) {
			env.Ifaces = append(env.Ifaces, nf.Iface{Name: f[0]})
		}
		env.Ifaces[i].Addrs = append(env.Ifaces[i].Addrs, p)
	}
	return env
}
