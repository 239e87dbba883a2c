package kubelet

import (
	"fmt"
	"path"
	"strings"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
)

// rancher describes where k3s or rke2 keep their configuration.
type rancher struct {
	name, config, dataDir string
	// builtin are the kubelet flags the distribution passes itself when it
	// does not use a kubelet.conf.d drop-in directory (k3s
	// pkg/daemons/agent/agent_linux.go defaultKubeletArgs, rke2 likewise).
	builtin []string
}

var rancherDistros = map[string]rancher{
	"k3s": {name: "k3s", config: "/etc/rancher/k3s/config.yaml", dataDir: "/var/lib/rancher/k3s",
		builtin: []string{"--anonymous-auth=false", "--authentication-token-webhook=true", "--authorization-mode=Webhook",
			"--client-ca-file=/var/lib/rancher/k3s/agent/client-ca.crt", "--read-only-port=0"}},
	"rke2": {name: "rke2", config: "/etc/rancher/rke2/config.yaml", dataDir: "/var/lib/rancher/rke2",
		builtin: []string{"--anonymous-auth=false", "--authentication-token-webhook=true", "--authorization-mode=Webhook",
			"--client-ca-file=/var/lib/rancher/rke2/agent/client-ca.crt", "--read-only-port=0"}},
}

// FromRancher builds the embedded kubelet's invocation for k3s or rke2: the
// distribution's own kubelet arguments (or its kubelet.conf.d drop-in
// directory when present), then every `kubelet-arg` of config.yaml and
// config.yaml.d/*.yaml in order, then --kubelet-arg from the server/agent
// command line (procArgs), later ones winning as on the kubelet's pflag set.
func FromRancher(h hostfs.FS, distro string, procArgs []string) (Invocation, error) {
	r, ok := rancherDistros[distro]
	if !ok {
		return Invocation{}, fmt.Errorf("read %s config: unknown distribution", distro)
	}
	inv := Invocation{Distro: distro, Cwd: "/", Source: distro + " embedded kubelet"}
	dropDir := path.Join(r.dataDir, "agent/etc/kubelet.conf.d")
	if h.IsDir(dropDir) {
		inv.add([]string{"--config-dir=" + dropDir}, distro+" built-in")
	} else {
		inv.add(r.builtin, distro+" built-in kubelet arguments")
	}
	files := []string{r.config}
	if names, err := h.ReadDir(r.config + ".d"); err == nil {
		for _, n := range names {
			if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
				files = append(files, path.Join(r.config+".d", n))
			}
		}
	}
	for _, f := range files {
		args, err := rancherKubeletArgs(h, f)
		if err != nil {
			return inv, err
		}
		inv.add(args, f)
	}
	inv.add(prefixArgs(kubeletArgFlags(procArgs)), "/proc "+distro+" --kubelet-arg")
	return inv, nil
}

func (inv *Invocation) add(args []string, origin string) {
	for _, a := range args {
		inv.Argv = append(inv.Argv, a)
		inv.Origin = append(inv.Origin, origin)
	}
}

// rancherKubeletArgs reads `kubelet-arg` (a list or a single string; a
// trailing "+" on the key appends instead of replacing in k3s, both end up on
// the kubelet's command line here). A missing config.yaml is normal.
func rancherKubeletArgs(h hostfs.FS, f string) ([]string, error) {
	if !h.Exists(f) {
		return nil, nil
	}
	data, err := h.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("read kubelet-arg: %w", err)
	}
	tree, err := decodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("read kubelet-arg in %s: %w", f, err)
	}
	var out []string
	for _, key := range []string{"kubelet-arg", "kubelet-arg+"} {
		switch v := tree[key].(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				out = append(out, fmt.Sprint(e))
			}
		}
	}
	return prefixArgs(out), nil
}

// kubeletArgFlags extracts --kubelet-arg values from a k3s/rke2 command line.
func kubeletArgFlags(argv []string) []string {
	a := ParseArgs(StripProgram(argv))
	return a.All("kubelet-arg")
}

// prefixArgs turns k3s's "name=value" kubelet-arg entries into "--name=value".
func prefixArgs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, "--"+strings.TrimLeft(s, "-"))
	}
	return out
}

// MicroK8sArgs is the kubelet arguments file microk8s's kubelite reads
// (--kubelet-args-file); ${SNAP} and ${SNAP_DATA} are expanded as the snap
// does.
const MicroK8sArgs = "/var/snap/microk8s/current/args/kubelet"

// FromMicroK8s builds the invocation from the microk8s args file: one or more
// flags per line, "#" comments.
func FromMicroK8s(h hostfs.FS) (Invocation, error) {
	data, err := h.ReadFile(MicroK8sArgs)
	if err != nil {
		return Invocation{}, fmt.Errorf("read microk8s kubelet args: %w", err)
	}
	env := map[string]string{"SNAP": "/snap/microk8s/current", "SNAP_DATA": "/var/snap/microk8s/current",
		"SNAP_COMMON": "/var/snap/microk8s/common"}
	inv := Invocation{Distro: "microk8s", Cwd: "/", Source: MicroK8sArgs}
	for _, line := range joinContinuations(data) {
		words, err := SplitWords(expandInline(line, func(k string) string { return env[k] }))
		if err != nil {
			return inv, fmt.Errorf("parse %s: %w", MicroK8sArgs, err)
		}
		inv.add(words, MicroK8sArgs)
	}
	return inv, nil
}

// MicroShift's files: the user configuration with its `kubelet:` section
// (passed through to the kubelet), its drop-in directory, and the
// KubeletConfiguration MicroShift generates from both.
const (
	MicroShiftConfig    = "/etc/microshift/config.yaml"
	MicroShiftConfigDir = "/etc/microshift/config.d"
	MicroShiftGenerated = "/var/lib/microshift/resources/kubelet/config/config.yaml"
)

// microShiftDefaults is what MicroShift sets on its in-process kubelet
// (pkg/node/kubelet.go): webhook authn/authz, no anonymous access, its client
// CA, and no read-only port.
var microShiftDefaults = map[string]any{
	"authentication": map[string]any{"anonymous": map[string]any{"enabled": false},
		"x509": map[string]any{"clientCAFile": "/var/lib/microshift/certs/ca-bundle/client-ca.crt"}},
	"authorization": map[string]any{"mode": "Webhook"},
	"readOnlyPort":  jsonInt(0),
}

// FromMicroShift builds the in-process kubelet's configuration: the
// generated KubeletConfiguration when present (as --config), else
// MicroShift's defaults, then the `kubelet:` sections of config.yaml and
// config.d/*.yaml on top.
func FromMicroShift(h hostfs.FS) (Invocation, error) {
	inv := Invocation{Distro: "microshift", Cwd: "/", Source: "microshift run (in-process kubelet)"}
	if h.Exists(MicroShiftGenerated) {
		inv.add([]string{"--config=" + MicroShiftGenerated}, "microshift")
	} else {
		inv.Defaults = &Doc{Layer: checks.LayerDefault, Path: "MicroShift built-in", Tree: microShiftDefaults}
	}
	files := []string{MicroShiftConfig}
	if names, err := h.ReadDir(MicroShiftConfigDir); err == nil {
		for _, n := range names {
			if strings.HasSuffix(n, ".yaml") {
				files = append(files, path.Join(MicroShiftConfigDir, n))
			}
		}
	}
	for _, f := range files {
		doc, ok, err := microShiftSection(h, f)
		if err != nil {
			return inv, err
		}
		if ok {
			inv.Docs = append(inv.Docs, doc)
		}
	}
	return inv, nil
}

func microShiftSection(h hostfs.FS, f string) (Doc, bool, error) {
	if !h.Exists(f) {
		return Doc{}, false, nil
	}
	data, err := h.ReadFile(f)
	if err != nil {
		return Doc{}, false, fmt.Errorf("read microshift config: %w", err)
	}
	tree, err := decodeTree(data)
	if err != nil {
		return Doc{}, false, fmt.Errorf("read microshift config %s: %w", f, err)
	}
	sec, ok := tree["kubelet"].(map[string]any)
	if !ok {
		return Doc{}, false, nil
	}
	return Doc{Layer: checks.LayerFile, Path: f + " (kubelet:)", Tree: sec}, true, nil
}
