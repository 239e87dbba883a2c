package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/exposure-audit/exposure/collect"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// ruleInputs are the flags that say which rulesets to load and what the
// node looks like.
type ruleInputs struct {
	files      []string
	localAddrs []string
	assume     []string
	// localnet is --route-localnet: [IFACE=]0|1 values.
	localnet []string
	// acceptLocal is --accept-local: [IFACE=]0|1 values.
	acceptLocal []string
	// rpFilter is --rp-filter: [IFACE=]0|1|2 values.
	rpFilter []string
}

func (r *ruleInputs) register(f *pflag.FlagSet) {
	f.StringArrayVar(&r.files, "rules", nil, "ruleset file: iptables-save (either flavour), iptables -S, iptables -L -n -v, nft ruleset text or nft -j JSON; repeat for a node's several rulesets")
	f.StringSliceVar(&r.localAddrs, "local-addrs", nil, "addresses of the node, comma-separated: ADDR, IFACE=ADDR/LEN, or @FILE with one \"IFACE ADDR/LEN\" per line (127.0.0.0/8 and ::1 always are)")
	f.StringSliceVar(&r.localnet, "route-localnet", nil, "net.ipv4.conf route_localnet of the node, comma-separated: 0|1 for all and every interface, or IFACE=0|1 (all=0|1 for conf/all); unknown without it (taken as 0, the kernel default, with an assumption)")
	f.StringSliceVar(&r.acceptLocal, "accept-local", nil, "net.ipv4.conf accept_local of the node (whether packets from the wire may carry one of its own addresses as source), spelled as --route-localnet; unknown without it (taken as 0, the kernel default, with an assumption)")
	f.StringSliceVar(&r.rpFilter, "rp-filter", nil, "net.ipv4.conf rp_filter of the node (reverse-path filtering: 0 off, 1 strict, 2 loose; the maximum of all's and the device's applies), spelled as --route-localnet with 0|1|2; unknown without it (taken as 0, with an assumption where filtering would refuse a source)")
	f.StringArrayVar(&r.assume, "assume", nil, "state an assumption instead of forking: KEY=true|false (keys: limit, hashlimit, connlimit, recent, nth, mac, owner, set:NAME, unknown module names)")
}

// env builds the node environment from the flags.
func (r *ruleInputs) env() (*nf.Env, error) {
	env := nf.NewEnv()
	for _, s := range r.localAddrs {
		if err := addLocalAddrs(env, s); err != nil {
			return nil, fmt.Errorf("--local-addrs: %w", err)
		}
	}
	localnet, err := parseConfFlag("--route-localnet", r.localnet)
	if err != nil {
		return nil, err
	}
	env.RouteLocalnet = localnet
	if env.AcceptLocal, err = parseConfFlag("--accept-local", r.acceptLocal); err != nil {
		return nil, err
	}
	if env.RPFilter, err = parseRPFilter(r.rpFilter); err != nil {
		return nil, err
	}
	for _, s := range r.assume {
		k, v, ok := strings.Cut(s, "=")
		b, ok2 := map[string]bool{"true": true, "match": true, "false": false, "nomatch": false}[strings.ToLower(v)]
		if !ok || !ok2 || k == "" {
			return nil, fmt.Errorf("--assume %q: want KEY=true|false", s)
		}
		env.Assume[k] = b
	}
	return env, nil
}

// parseConfFlag reads the values of a per-interface net.ipv4.conf flag
// (--route-localnet, --accept-local): a bare 0|1 sets all and every
// interface ("*"), IFACE=0|1 one interface ("all" is conf/all).
func parseConfFlag(flag string, vals []string) (map[string]bool, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]bool{}
	for _, s := range vals {
		k, v, named := strings.Cut(strings.TrimSpace(s), "=")
		if !named {
			k, v = "", k
		}
		on, ok := map[string]bool{"0": false, "1": true}[v]
		if !ok || named && k == "" {
			return nil, fmt.Errorf("%s %q: want 0|1 or IFACE=0|1", flag, s)
		}
		if !named {
			out["all"], out["*"] = on, on
			continue
		}
		out[k] = on
	}
	return out, nil
}

// parseRPFilter reads --rp-filter values: a bare 0|1|2 sets all and every
// interface ("*"), IFACE=0|1|2 one interface ("all" is conf/all).
func parseRPFilter(vals []string) (map[string]int, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]int{}
	for _, s := range vals {
		k, v, named := strings.Cut(strings.TrimSpace(s), "=")
		if !named {
			k, v = "", k
		}
		mode, ok := map[string]int{"0": 0, "1": 1, "2": 2}[v]
		if !ok || named && k == "" {
			return nil, fmt.Errorf("--rp-filter %q: want 0|1|2 or IFACE=0|1|2", s)
		}
		if !named {
			out["all"], out["*"] = mode, mode
			continue
		}
		out[k] = mode
	}
	return out, nil
}

// load reads and validates the rulesets.
func (r *ruleInputs) load(a *app) (*nf.Ruleset, error) {
	if len(r.files) == 0 {
		return nil, usageError(fmt.Errorf("--rules FILE is required"))
	}
	rs, err := newLoader().LoadFiles(r.files...)
	if err != nil {
		return nil, usageError(err)
	}
	for _, w := range rs.Warnings {
		a.log.Warn("ruleset", "warning", w.String())
	}
	return rs, nil
}

func (r *ruleInputs) simulator(a *app) (*trace.Simulator, error) {
	env, err := r.env()
	if err != nil {
		return nil, usageError(err)
	}
	rs, err := r.load(a)
	if err != nil {
		return nil, err
	}
	return trace.New(rs, env), nil
}

// newLoader returns the ruleset loader with every front-end this build has.
func newLoader() collect.Loader { return collect.Loader{Nft: nftParser()} }

// addLocalAddrs adds one --local-addrs value: ADDR, IFACE=ADDR/LEN, or
// @FILE with "IFACE ADDR/LEN" lines (# comments allowed).
func addLocalAddrs(env *nf.Env, s string) error {
	file, isFile := strings.CutPrefix(s, "@")
	if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
		file, isFile = s, true // audit's spelling: a bare file name
	}
	if isFile {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read %w", err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			if len(f) != 2 {
				return fmt.Errorf("%s:%d: want \"IFACE ADDR/LEN\", got %q", file, i+1, line)
			}
			if err := addLocalAddr(env, f[0], f[1]); err != nil {
				return fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
		}
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		iface, addr, ok := strings.Cut(part, "=")
		if !ok {
			iface, addr = "", part
		}
		if err := addLocalAddr(env, iface, addr); err != nil {
			return err
		}
	}
	return nil
}

func addLocalAddr(env *nf.Env, iface, s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, err2 := netip.ParseAddr(s)
		if err2 != nil {
			return fmt.Errorf("%q is not an IP address or ADDR/LEN", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	a := p.Addr().Unmap()
	env.Local[a] = true
	if iface == "" {
		return nil
	}
	if p.Bits() < a.BitLen() {
		// A connected route comes with the address.
		env.Routes = append(env.Routes, nf.Route{Prefix: p.Masked(), Iface: iface})
	}
	for i := range env.Ifaces {
		if env.Ifaces[i].Name == iface {
			env.Ifaces[i].Addrs = append(env.Ifaces[i].Addrs, p)
			return nil
		}
	}
	env.Ifaces = append(env.Ifaces, nf.Iface{Name: iface, Addrs: []netip.Prefix{p}})
	return nil
}
