package collect

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Interface is one network interface of the node and its addresses.
type Interface struct {
	Name string `json:"name"`
	// Addrs are address/prefix, as `ip addr` shows them.
	Addrs []string `json:"addrs"`
	MAC   string   `json:"mac,omitempty"`
}

// Route is one route of the main table.
type Route struct {
	Prefix string `json:"prefix"`
	Iface  string `json:"iface,omitempty"`
	// Type is unicast, or unreachable/blackhole/prohibit (the kernel drops
	// what they match).
	Type string `json:"type,omitempty"`
}

// ParseLocalAddrs reads a local-addrs file: one "iface addr/prefix" (or
// "iface=addr/prefix", the --local-addrs flag's spelling) per line (a bare
// address is a /32 or /128 on interface "eth0"), "#" comments, as the
// examples/*.local-addrs files are written.
func ParseLocalAddrs(data []byte, file string) ([]Interface, error) {
	var out []Interface
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name, addr := "eth0", f[0]
		if len(f) >= 2 {
			name, addr = f[0], f[1]
		} else if i, a, ok := strings.Cut(f[0], "="); ok {
			name, addr = i, a
		}
		if _, err := parsePrefix(addr); err != nil {
			return nil, nf.Errorf(file, n, 1, sc.Text(), "parse local address: %v", err)
		}
		out = addIfaceAddr(out, name, addr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read local addrs: %w", err)
	}
	return out, nil
}

func addIfaceAddr(ifs []Interface, name, addr string) []Interface {
	for i := range ifs {
		if ifs[i].Name == name {
			ifs[i].Addrs = append(ifs[i].Addrs, addr)
			return ifs
		}
	}
	return append(ifs, Interface{Name: name, Addrs: []string{addr}})
}

// parsePrefix accepts "addr/bits" or a bare address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Env builds the simulator's node environment from interfaces and routes:
// every interface address is local (RTN_LOCAL in the local table). When no
// routes are given, the connected routes the kernel adds for each address
// prefix (fib_add_ifaddr) are assumed; no default route is invented.
func Env(ifs []Interface, routes []Route) *nf.Env {
	if len(routes) == 0 {
		routes = connectedRoutes(ifs)
	}
	env := nf.NewEnv()
	for _, i := range ifs {
		ni := nf.Iface{Name: i.Name, MAC: i.MAC}
		for _, s := range i.Addrs {
			p, err := parsePrefix(s)
			if err != nil {
				continue
			}
			env.Local[p.Addr()] = true
			ni.Addrs = append(ni.Addrs, p)
		}
		env.Ifaces = append(env.Ifaces, ni)
	}
	for _, r := range routes {
		p, err := parsePrefix(r.Prefix)
		if err != nil {
			continue
		}
		env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: r.Iface, Unreachable: r.Type != "" && r.Type != "unicast"})
	}
	return env
}

// connectedRoutes are the prefix routes of the interfaces' addresses.
func connectedRoutes(ifs []Interface) []Route {
	var out []Route
	for _, i := range ifs {
		for _, s := range i.Addrs {
			p, err := parsePrefix(s)
			if err != nil || i.Name == "" || p.Addr().IsLoopback() || p.Bits() == p.Addr().BitLen() {
				continue
			}
			out = append(out, Route{Prefix: p.Masked().String(), Iface: i.Name, Type: "unicast"})
		}
	}
	return out
}
