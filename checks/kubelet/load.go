package kubelet

import (
	"fmt"
	"path"
	"strings"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
)

// Invocation is how a kubelet was (or would be) started: its arguments and
// working directory, plus what an embedding distribution adds around them.
type Invocation struct {
	// Argv is the kubelet's argument list without the program name.
	Argv []string
	// Origin names where each Argv element came from (a file, "--kubelet-cmdline",
	// "/proc/PID/cmdline"); nil means Source for all.
	Origin []string
	// Cwd is the kubelet's working directory, against which it resolves a
	// relative --config or --config-dir (filepath.Abs in loadConfigFile).
	Cwd string
	// Source says how the invocation was found, for the report.
	Source string
	// Distro is the embedding distribution ("k3s", "rke2", "microk8s",
	// "microshift") or "" for a standalone kubelet.
	Distro string
	// Docs are configuration layers the distribution merges after the
	// --config file and before drop-ins (MicroShift's kubelet: section).
	Docs []Doc
	// Defaults replaces the kubelet's built-in defaults when the
	// distribution configures the kubelet without flags or files.
	Defaults *Doc
}

// Load reads every file the invocation references from the host and returns
// the layered configuration. A referenced file or directory that cannot be
// read is an error: the kubelet itself would refuse to start.
func Load(h hostfs.FS, inv Invocation) (Config, error) {
	args := ParseArgs(inv.Argv)
	c := Config{Args: args, Origin: origins(inv), Defaults: inv.Defaults}
	if len(args.Errs) > 0 {
		return c, fmt.Errorf("parse kubelet flags: %s", strings.Join(args.Errs, "; "))
	}
	if len(args.Positional) > 0 {
		return c, fmt.Errorf("parse kubelet flags: unknown command %q (a boolean flag takes its value only as --flag=value)", args.Positional[0])
	}
	file, err := loadFile(h, inv.Cwd, args)
	if err != nil {
		return c, err
	}
	c.Docs = append(c.Docs, file...)
	c.Legacy = len(file) == 0 && inv.Defaults == nil
	c.Docs = append(c.Docs, inv.Docs...)
	dropins, err := loadDropIns(h, inv.Cwd, args)
	c.Docs = append(c.Docs, dropins...)
	return c, err
}

func origins(inv Invocation) []string {
	if len(inv.Origin) == len(inv.Argv) {
		return inv.Origin
	}
	o := make([]string, len(inv.Argv))
	for i := range o {
		o[i] = inv.Source
	}
	return o
}

// loadFile reads the --config file, resolved against the working directory.
func loadFile(h hostfs.FS, cwd string, args Args) ([]Doc, error) {
	fl, ok := args.Last("config")
	if !ok || fl.Value == "" {
		return nil, nil
	}
	p := abs(cwd, fl.Value)
	data, err := h.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load kubelet config file: %w", err)
	}
	tree, err := DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("load kubelet config file %s: %w", p, err)
	}
	resolveRelative(tree, path.Dir(p))
	return []Doc{{Layer: checks.LayerFile, Path: p, Tree: tree}}, nil
}

// loadDropIns reads the --config-dir drop-ins as mergeKubeletConfigurations
// does: filepath.WalkDir order (lexical, recursing), files ending ".conf".
func loadDropIns(h hostfs.FS, cwd string, args Args) ([]Doc, error) {
	fl, ok := args.Last("config-dir")
	if !ok || fl.Value == "" {
		return nil, nil
	}
	dir := abs(cwd, fl.Value)
	files, err := h.Walk(dir)
	if err != nil {
		return nil, fmt.Errorf("load kubelet drop-ins: %w", err)
	}
	var docs []Doc
	for _, f := range files {
		if path.Ext(f) != ".conf" {
			continue
		}
		data, err := h.ReadFile(f)
		if err != nil {
			return docs, fmt.Errorf("load kubelet drop-in: %w", err)
		}
		tree, err := DecodeConfig(data)
		if err != nil {
			return docs, fmt.Errorf("load kubelet drop-in %s: %w", f, err)
		}
		docs = append(docs, Doc{Layer: checks.LayerDropIn, Path: f, Tree: tree})
	}
	return docs, nil
}

// resolveRelative makes the config file's relative clientCAFile absolute
// against the file's directory, as the kubelet's configfiles loader does for
// KubeletConfigurationPathRefs.
func resolveRelative(tree map[string]any, dir string) {
	x509, ok := lookup(tree, "authentication.x509")
	if !ok {
		return
	}
	m, ok := x509.(map[string]any)
	if !ok {
		return
	}
	if s, ok := m["clientCAFile"].(string); ok && s != "" {
		m["clientCAFile"] = abs(dir, s)
	}
}

// abs resolves p against dir like filepath.Abs against the working directory.
func abs(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if dir == "" {
		dir = "/"
	}
	return path.Join(dir, p)
}
