package kubelet

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// Process is a running process as /proc shows it.
type Process struct {
	PID  int      // process ID
	Argv []string // /proc/PID/cmdline split at NUL bytes
	// Cwd is the target of /proc/PID/cwd, a path in the process's mount
	// namespace (the host's, for the kubelet).
	Cwd string
}

// Processes lists running processes. The live implementation reads /proc;
// tests pass fixed lists.
type Processes interface {
	Processes() ([]Process, error)
}

// ProcFS reads processes from a proc filesystem mounted at Dir on the host
// filesystem FS ("/proc" for this machine's own, or with hostPID).
type ProcFS struct {
	FS  hostfs.FS // the filesystem holding the proc mount
	Dir string    // the proc mount point ("/proc")
}

// Processes implements Processes: every numeric entry of Dir with a readable
// cmdline (NUL-separated, proc(5)) and, when permitted, its cwd link.
func (p ProcFS) Processes() ([]Process, error) {
	names, err := p.FS.ReadDir(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var ps []Process
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		raw, err := p.FS.ReadFile(path.Join(p.Dir, n, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		cwd, _ := p.FS.Readlink(path.Join(p.Dir, n, "cwd"))
		ps = append(ps, Process{PID: pid, Argv: splitCmdline(raw), Cwd: cwd})
	}
	return ps, nil
}

func splitCmdline(raw []byte) []string {
	raw = bytes.TrimRight(raw, "\x00")
	return strings.Split(string(raw), "\x00")
}

// Kind classifies a process as the kubelet or one of the programs that embed
// it, by program name as kube-bench's $kubeletbin list and the
// distributions name them.
func (p Process) Kind() string {
	if len(p.Argv) == 0 {
		return ""
	}
	prog := path.Base(p.Argv[0])
	sub := ""
	if len(p.Argv) > 1 {
		sub = p.Argv[1]
	}
	switch {
	case prog == "kubelet", prog == "hyperkube" && sub == "kubelet":
		return "kubelet"
	case prog == "kubelite":
		return "microk8s"
	case prog == "microshift" && sub == "run":
		return "microshift"
	case (prog == "k3s" || prog == "rke2") && (sub == "server" || sub == "agent"):
		return prog
	}
	return ""
}

// Find returns the first process of kind k.
func Find(ps []Process, k string) (Process, bool) {
	for _, p := range ps {
		if p.Kind() == k {
			return p, true
		}
	}
	return Process{}, false
}
