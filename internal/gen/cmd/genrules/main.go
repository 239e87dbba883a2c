// Command genrules writes a generated kube-proxy ruleset for tests and benchmarks:
//
//	go run ./internal/gen/cmd/genrules -kind kube-proxy-iptables|kube-proxy-nft -services N -endpoints M -seed S -o FILE
//
// kube-proxy-iptables writes iptables-save text (-flavour nft|legacy), kube-proxy-nft writes table ip kube-proxy
// as `nft list ruleset` prints it (loadable with `nft -f`). The Services come from kubeproxy.Scale (or
// ScaleClusterIP) and the node from kubeproxy.ScaleNode. A one-line summary goes to stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "genrules:", err)
		os.Exit(2)
	}
}

// config is the parsed command line.
type config struct {
	kind, out, flavour, version, comments, mix string
	services, endpoints                        int
	seed                                       uint64
	noNFAcct, counters                         bool
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("genrules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.kind, "kind", "kube-proxy-iptables", "kube-proxy-iptables or kube-proxy-nft")
	fs.IntVar(&c.services, "services", 100, "number of Services")
	fs.IntVar(&c.endpoints, "endpoints", 10, "endpoints per Service")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed (same seed, same output)")
	fs.StringVar(&c.out, "o", "-", "output file (- for stdout)")
	fs.StringVar(&c.flavour, "flavour", "nft", "iptables-save flavour: nft (iptables-nft-save) or legacy (iptables-legacy-save)")
	fs.StringVar(&c.version, "version", "1.34", "kube-proxy version for the nftables layout: 1.34 or 1.32")
	fs.StringVar(&c.comments, "comments", "auto", "per-endpoint comments: auto (kube-proxy: none above 1000 endpoints), always, never")
	fs.BoolVar(&c.counters, "counters", false, "prefix rules with [0:0] as iptables-save -c does")
	fs.StringVar(&c.mix, "mix", "realistic", "Service mix: realistic (kubeproxy.Scale) or clusterip (kubeproxy.ScaleClusterIP, single-port ClusterIP only)")
	fs.BoolVar(&c.noNFAcct, "no-nfacct", false, "leave out -m nfacct matches (needed to really load the dump: the nfacct objects kube-proxy creates are missing)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("parse arguments: unexpected %q", fs.Arg(0))
	}
	return c, nil
}

func options(c config) (kubeproxy.Options, error) {
	var o kubeproxy.Options
	switch c.flavour {
	case "nft":
	case "legacy":
		o.Flavour = kubeproxy.FlavourLegacy
	default:
		return o, fmt.Errorf("parse -flavour: unknown %q", c.flavour)
	}
	switch c.version {
	case "1.34":
	case "1.32":
		o.Version = kubeproxy.V132
	default:
		return o, fmt.Errorf("parse -version: unknown %q", c.version)
	}
	switch c.comments {
	case "auto":
	case "always":
		o.Comments = kubeproxy.CommentsAlways
	case "never":
		o.Comments = kubeproxy.CommentsNever
	default:
		return o, fmt.Errorf("parse -comments: unknown %q", c.comments)
	}
	o.Counters = c.counters
	return o, nil
}

func services(c config) ([]kubeproxy.Service, error) {
	switch c.mix {
	case "realistic":
		return kubeproxy.Scale(c.services, c.endpoints, c.seed)
	case "clusterip":
		return kubeproxy.ScaleClusterIP(c.services, c.endpoints)
	}
	return nil, fmt.Errorf("parse -mix: unknown %q", c.mix)
}

func run(args []string, stdout, stderr io.Writer) (err error) {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	opt, err := options(c)
	if err != nil {
		return err
	}
	svcs, err := services(c)
	if err != nil {
		return err
	}
	w := stdout
	if c.out != "-" {
		f, err := os.Create(c.out)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		w = f
	}
	node := kubeproxy.ScaleNode()
	node.NoNFAcct = c.noNFAcct
	var st kubeproxy.Stats
	switch c.kind {
	case "kube-proxy-iptables":
		st, err = kubeproxy.IPTablesSave(w, node, svcs, opt)
	case "kube-proxy-nft":
		st, err = kubeproxy.NFTRuleset(w, node, svcs, opt)
	default:
		return fmt.Errorf("parse -kind: unknown %q", c.kind)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %d service ports, %d endpoints, %d chains, %d rules, %d set elements, large-cluster-mode=%v\n",
		c.kind, st.Services, st.Endpoints, st.Chains, st.Rules, st.Elements, st.Large)
	return nil
}
