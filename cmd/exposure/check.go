package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exposure-audit/exposure/checks/apiserver"
	"github.com/exposure-audit/exposure/checks/audit"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/hygiene"
	"github.com/exposure-audit/exposure/checks/kubelet"
	"github.com/exposure-audit/exposure/checks/render"
)

// checkOptions are the flags of `exposure check`.
type checkOptions struct {
	root, cmdline, cwd, version string
	kubeconfig, node, output    string
	rules                       []string
	exitCode                    bool
	snapshot                    string
}

// newCheckCmd builds `exposure check`: the CIS kubelet controls decided the
// way the kubelet decides its settings, and iptables hygiene.
func newCheckCmd(a *app) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Audit the node's kubelet settings (CIS) and iptables hygiene",
		Long: `check decides the kubelet's security settings exactly as the kubelet does (configz when
reachable; else defaults, --config, --config-dir drop-ins and flags from the live process,
an embedding distribution's files or the systemd unit) and reports the CIS controls for the
platform's benchmark, then iptables hygiene: restore services, firewalld, and, with --rules,
flushed chains, mixed backends and misplaced admin rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd, a, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "/", "directory where the host's / is mounted; every host path is resolved under it")
	f.StringVar(&o.cmdline, "kubelet-cmdline", "", "the kubelet's command line, when its process cannot be read")
	f.StringVar(&o.cwd, "kubelet-cwd", "", "the kubelet's working directory (resolves a relative --config)")
	f.StringVar(&o.version, "kubelet-version", "", "the kubelet's version (vX.Y.Z), when the API cannot tell")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig to read the node's configz and version with")
	f.StringVar(&o.node, "node", "", "node name (default: the kubelet's --hostname-override or the host's /etc/hostname)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(render.Formats, "|"))
	f.StringArrayVar(&o.rules, "rules", nil, "ruleset to check for flushed chains, mixed backends and misplaced admin rules: iptables-save (either flavour), iptables -S/-L, nft text or JSON; repeatable")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit 1 when a check FAILs")
	f.StringVar(&o.snapshot, "snapshot", "", "check a snapshot bundle (exposure snapshot -o FILE) instead of this node: the files, kubelet invocation and rulesets it recorded")
	return cmd
}

func runCheck(cmd *cobra.Command, a *app, o *checkOptions) error {
	if !slices.Contains(render.Formats, o.output) {
		return usageError(fmt.Errorf("check: unknown output %q (want %s)", o.output, strings.Join(render.Formats, "|")))
	}
	opts, cleanup, err := o.options(a)
	if err != nil {
		return usageError(err)
	}
	defer cleanup()
	rep, err := audit.Run(cmd.Context(), opts)
	if err != nil {
		return usageError(err)
	}
	if err := render.Write(a.stdout, o.output, rep); err != nil {
		return err
	}
	if o.exitCode && rep.HasFailure() {
		return findingExit()
	}
	return nil
}

// options picks the snapshot replay or the flags.
func (o *checkOptions) options(a *app) (audit.Options, func(), error) {
	if o.snapshot == "" {
		opts, err := o.auditOptions(a)
		return opts, func() {}, err
	}
	if o.root != "/" || len(o.rules) > 0 {
		return audit.Options{}, func() {}, fmt.Errorf("--snapshot goes with neither --root nor --rules (the bundle holds both)")
	}
	return snapshotAudit(o.snapshot, o)
}

// auditOptions turns flags into audit options; bad input is an error.
func (o *checkOptions) auditOptions(a *app) (audit.Options, error) {
	fsys := hostfs.New(o.root)
	opts := audit.Options{FS: fsys, Cmdline: o.cmdline, Cwd: o.cwd, Version: o.version, Node: o.node,
		Procs: procSource(fsys, o.root)}
	for _, p := range o.rules {
		s, err := readRules(p)
		if err != nil {
			return opts, err
		}
		opts.Rules = append(opts.Rules, s)
	}
	if o.kubeconfig != "" {
		creds, err := apiserver.LoadKubeconfig(o.kubeconfig)
		if err != nil {
			return opts, err
		}
		c, err := apiserver.NewClient(creds)
		if err != nil {
			return opts, err
		}
		opts.API = c
	}
	a.log.Debug("check inputs", "root", o.root, "rules", len(opts.Rules), "kubeconfig", o.kubeconfig != "")
	return opts, nil
}

// procSource reads processes from the host's /proc under --root when it is
// mounted there, else from this machine's /proc (a hostPID pod).
func procSource(fsys hostfs.FS, root string) kubelet.Processes {
	if root != "/" && root != "" && fsys.Exists("/proc/self") {
		return kubelet.ProcFS{FS: fsys, Dir: "/proc"}
	}
	return kubelet.ProcFS{FS: hostfs.New("/"), Dir: "/proc"}
}

// readRules reads one --rules file with the project's ruleset loader (every
// format `exposure trace --rules` reads) and adapts it to the hygiene view.
// iptables-legacy-save prints no backend in its header, so a table whose
// backend the parser could not tell takes the header's.
func readRules(p string) (hygiene.Snapshot, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return hygiene.Snapshot{}, fmt.Errorf("read rules: %w", err)
	}
	rs, err := newLoader().Parse(data, p)
	if err != nil {
		return hygiene.Snapshot{}, fmt.Errorf("read rules: %w", err)
	}
	return hygiene.FromRuleset(rs).WithBackend(hygiene.HeaderBackend(data)), nil
}
