package kubelet

import (
	"errors"
	"fmt"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// ErrNotFound means no kubelet could be found by any means.
var ErrNotFound = errors.New("no kubelet process, --kubelet-cmdline, embedded distribution or kubelet.service found")

// Discoverer finds how the node's kubelet runs, in order of trust: an
// explicit command line, the live process (/proc), an embedding
// distribution's files, then the systemd unit that starts it.
type Discoverer struct {
	// FS is the host filesystem.
	FS hostfs.FS
	// Procs lists running processes; nil skips the live lookup.
	Procs Processes
	// Cmdline stands in for the live process (--kubelet-cmdline).
	Cmdline string
	// Cwd overrides the working directory (--kubelet-cwd).
	Cwd string
	// CmdlineSource names where Cmdline came from in the report
	// ("--kubelet-cmdline" when empty; a snapshot bundle names the process).
	CmdlineSource string
}

// Discover returns the kubelet's invocation, or ErrNotFound.
func (d Discoverer) Discover() (Invocation, error) {
	if d.Cmdline != "" {
		return d.fromCmdline()
	}
	if inv, ok, err := d.fromProcs(); ok {
		return d.withCwd(inv), err
	}
	inv, ok, err := d.fromFiles()
	if ok {
		return d.withCwd(inv), err
	}
	return Invocation{}, ErrNotFound
}

func (d Discoverer) withCwd(inv Invocation) Invocation {
	if d.Cwd != "" {
		inv.Cwd = d.Cwd
	}
	return inv
}

func (d Discoverer) fromCmdline() (Invocation, error) {
	words, err := SplitWords(d.Cmdline)
	if err != nil {
		return Invocation{}, fmt.Errorf("parse --kubelet-cmdline: %w", err)
	}
	src := d.CmdlineSource
	if src == "" {
		src = "--kubelet-cmdline"
	}
	inv := Invocation{Argv: StripProgram(words), Cwd: "/", Source: src}
	return d.withCwd(inv), nil
}

// fromProcs looks for a kubelet process, then for the programs embedding one.
func (d Discoverer) fromProcs() (Invocation, bool, error) {
	if d.Procs == nil {
		return Invocation{}, false, nil
	}
	ps, err := d.Procs.Processes()
	if err != nil {
		return Invocation{}, false, nil
	}
	if p, ok := Find(ps, "kubelet"); ok {
		src := fmt.Sprintf("/proc/%d/cmdline", p.PID)
		cwd := p.Cwd
		if cwd == "" {
			cwd = "/"
		}
		return Invocation{Argv: StripProgram(p.Argv), Cwd: cwd, Source: src}, true, nil
	}
	for _, k := range []string{"k3s", "rke2"} {
		if p, ok := Find(ps, k); ok {
			inv, err := FromRancher(d.FS, k, p.Argv)
			return inv, true, err
		}
	}
	if _, ok := Find(ps, "microk8s"); ok {
		inv, err := FromMicroK8s(d.FS)
		return inv, true, err
	}
	if _, ok := Find(ps, "microshift"); ok {
		inv, err := FromMicroShift(d.FS)
		return inv, true, err
	}
	return Invocation{}, false, nil
}

// fromFiles reconstructs the invocation from files alone, for offline
// roots and when /proc cannot be read.
func (d Discoverer) fromFiles() (Invocation, bool, error) {
	h := d.FS
	switch {
	case h.Exists(MicroShiftConfig) || h.Exists(MicroShiftGenerated):
		inv, err := FromMicroShift(h)
		return inv, true, err
	case h.Exists(rancherDistros["rke2"].config) || h.IsDir(rancherDistros["rke2"].dataDir):
		inv, err := FromRancher(h, "rke2", nil)
		return inv, true, err
	case h.Exists(rancherDistros["k3s"].config) || h.IsDir(rancherDistros["k3s"].dataDir):
		inv, err := FromRancher(h, "k3s", nil)
		return inv, true, err
	case h.Exists(MicroK8sArgs):
		inv, err := FromMicroK8s(h)
		return inv, true, err
	}
	return FromSystemd(h, "kubelet.service")
}
