package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/exposure-audit/exposure/kube"
	"github.com/exposure-audit/exposure/kube/apiclient"
	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/report"
)

// k8sOpts are the Kubernetes flags of audit, ports, snapshot and k8s: where
// the cluster's objects come from, and which Node this host is.
type k8sOpts struct {
	kubeconfig string
	context    string
	objects    []string
	node       string
	pageSize   int64
}

// register adds the flags; a nodeHelp adds --node with that help (not on
// snapshot).
func (k *k8sOpts) register(f *pflag.FlagSet, nodeHelp string) {
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig to list the cluster's Nodes, Pods, Services and EndpointSlices with (default $KUBECONFIG, then ~/.kube/config, then the in-cluster service account); failing to list is then an error")
	f.StringVar(&k.context, "context", "", "kubeconfig context to use (default: its current-context)")
	f.StringArrayVar(&k.objects, "k8s-objects", nil, "cluster objects from a file instead of the API: kubectl get nodes,pods,services,endpointslices -A -o json|yaml output (repeatable)")
	f.Int64Var(&k.pageSize, "k8s-page-size", apiclient.DefaultPageSize, "objects per list request")
	_ = f.MarkHidden("k8s-page-size")
	if nodeHelp != "" {
		f.StringVar(&k.node, "node", "", nodeHelp)
	}
}

// explicit reports --kubeconfig or --context: the API must then answer.
func (k *k8sOpts) explicit() bool { return k.kubeconfig != "" || k.context != "" }

// check rejects --k8s-objects together with --kubeconfig/--context.
func (k *k8sOpts) check() error {
	if len(k.objects) > 0 && k.explicit() {
		return fmt.Errorf("--k8s-objects and --kubeconfig/--context exclude each other")
	}
	return nil
}

// fromFiles decodes and merges the --k8s-objects files.
func (k *k8sOpts) fromFiles() (*kube.Inventory, error) {
	inv := &kube.Inventory{}
	for _, f := range k.objects {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read k8s objects: %w", err)
		}
		part, err := kube.Decode(f, data)
		if err != nil {
			return nil, err
		}
		inv.Add(part)
	}
	return inv, nil
}

// fromAPI lists the objects from the API server.
func (k *k8sOpts) fromAPI(ctx context.Context) (*kube.Inventory, apiclient.Source, error) {
	cfg := apiclient.Config{Kubeconfig: k.kubeconfig, Context: k.context}
	if !k.explicit() {
		// Tried by default on live runs: do not hold the audit up long
		// for an API server that does not answer.
		cfg.Timeout = 10 * time.Second
	}
	rc, src, err := apiclient.RESTConfig(cfg)
	if err != nil {
		return nil, src, err
	}
	c, err := apiclient.New(rc)
	if err != nil {
		return nil, src, err
	}
	inv, err := apiclient.Load(ctx, c, apiclient.Options{PageSize: k.pageSize})
	if err != nil {
		return nil, src, fmt.Errorf("list cluster objects from %s: %w", src, err)
	}
	return inv, src, nil
}

// objectsFrom says where a command's objects came from.
type objectsFrom struct {
	inv *kube.Inventory
	// from describes the source ("3 --k8s-objects files", "the snapshot",
	// "https://... (context c)").
	from string
	// note says why there are none, when inv is nil.
	note string
}

// inventory picks the cluster objects, in this order: --k8s-objects files;
// the API when --kubeconfig/--context is given (an error when it fails);
// the objects a snapshot recorded; and, when tryAPI (live runs), the API
// through the default kubeconfig or in-cluster config, where a failure is
// only a note.
func (k *k8sOpts) inventory(ctx context.Context, bundled *kube.Inventory, tryAPI bool) (objectsFrom, error) {
	switch {
	case len(k.objects) > 0:
		inv, err := k.fromFiles()
		if err != nil {
			return objectsFrom{}, usageError(err)
		}
		return objectsFrom{inv: inv, from: fmt.Sprintf("%d --k8s-objects file(s)", len(k.objects))}, nil
	case k.explicit():
		inv, src, err := k.fromAPI(ctx)
		if err != nil {
			return objectsFrom{}, usageError(err)
		}
		return objectsFrom{inv: inv, from: src.String()}, nil
	case bundled != nil:
		return objectsFrom{inv: bundled, from: "the snapshot's k8s_objects"}, nil
	case !tryAPI:
		return objectsFrom{note: "no Kubernetes objects (give --k8s-objects, --kubeconfig, or a snapshot taken with API access): no owners checked against the cluster, no findings"}, nil
	}
	inv, src, err := k.fromAPI(ctx)
	if err != nil {
		if errors.Is(err, apiclient.ErrNoConfig) {
			err = errors.New("no kubeconfig found and not in a pod")
		}
		return objectsFrom{note: fmt.Sprintf("Kubernetes objects not read (%v): no owners checked against the cluster, no findings", err)}, nil
	}
	return objectsFrom{inv: inv, from: src.String()}, nil
}

// nodeName is --node, else the Node whose addresses are local.
func (k *k8sOpts) nodeName(inv *kube.Inventory, env *nf.Env) (string, error) {
	if k.node != "" {
		return k.node, nil
	}
	var local []netip.Addr
	if env != nil {
		for a := range env.Local {
			local = append(local, a)
		}
	}
	return kube.NodeFor(inv, local)
}

// k8sCmdOpts are the flags of `exposure k8s`.
type k8sCmdOpts struct {
	k8s    k8sOpts
	output string
}

func newK8sCmd(a *app) *cobra.Command {
	o := &k8sCmdOpts{}
	cmd := &cobra.Command{
		Use:   "k8s [--node NAME] [--kubeconfig FILE [--context NAME] | --k8s-objects FILE...]",
		Short: "List what the cluster declares should be exposed on each node (NodePorts, externalIPs, LoadBalancer IPs, hostPorts, hostNetwork ports), without looking at a node",
		Long: `k8s reads the cluster's Nodes, Pods, Services and EndpointSlices (from the API server, or from
kubectl output with --k8s-objects) and lists, per node, every port the objects declare should
be reachable there: Service nodePorts, externalIPs, LoadBalancer ingress IPs and
healthCheckNodePorts, and the hostPorts and hostNetwork container ports of the node's pods.
Compare it with what a node really exposes with exposure audit (docs/kubernetes.md).`,
		Example: `  exposure k8s --node worker-1
  kubectl get nodes,pods,services,endpointslices -A -o json > objects.json
  exposure k8s --k8s-objects objects.json -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runK8s(cmd.Context(), a, o) },
	}
	o.k8s.register(cmd.Flags(), "list this Node's declarations only (default: every Node of the objects)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table|json|yaml")
	return cmd
}

func runK8s(ctx context.Context, a *app, o *k8sCmdOpts) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if err := o.k8s.check(); err != nil {
		return usageError(err)
	}
	objs, err := o.k8s.inventory(ctx, nil, false)
	if err != nil {
		return err
	}
	if objs.inv == nil {
		inv, _, err := o.k8s.fromAPI(ctx)
		if err != nil {
			return usageError(err)
		}
		objs.inv = inv
	}
	doc := report.Declared{Declared: declarations(objs.inv, o.k8s.node)}
	switch o.output {
	case "json":
		return report.JSON(a.stdout, doc)
	case "yaml":
		return report.YAML(a.stdout, doc)
	}
	return report.DeclaredTable(a.stdout, doc)
}

// declarations lists kube.Declared for --node, else for every Node of the
// inventory by name (Service ports only when it has no Node).
func declarations(inv *kube.Inventory, node string) []report.NodeDeclaration {
	nodes := []string{node}
	if node == "" && len(inv.Nodes) > 0 {
		nodes = nodes[:0]
		for _, n := range inv.Nodes {
			nodes = append(nodes, n.Name)
		}
		slices.Sort(nodes)
	}
	out := []report.NodeDeclaration{}
	for _, n := range nodes {
		for _, d := range kube.Declared(inv, n) {
			out = append(out, report.NodeDeclaration{Node: n, Declaration: d})
		}
	}
	return out
}

func checkOutput(format string) error {
	if format != "table" && format != "json" && format != "yaml" {
		return usageError(fmt.Errorf("unknown output format %q (table|json|yaml)", format))
	}
	return nil
}
