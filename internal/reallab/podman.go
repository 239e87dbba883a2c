package reallab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Podman runs rootful podman (netavark network backend) inside one network
// namespace with private storage, run and network-config directories.
type Podman struct {
	tb  testing.TB
	ns  string
	Dir string // private directory: root, runroot, tmpdir, network configs
	// containers started by Run, with what their cleanup must check.
	containers []podmanContainer
}

// podmanContainer is what the cleanup needs of a container.
type podmanContainer struct {
	id, sandbox string
	conmon      int
}

// podmanLeftovers are fixed paths podman, netavark and runc write outside
// the private directories: netavark's IPAM database, runc's state root and
// the image blob-info cache.
var podmanLeftovers = []string{"/run/containers", "/run/runc", "/var/lib/containers", "/run/libpod"}

// StartPodman prepares podman for namespace ns; its cleanup removes the
// containers Run started, checks their conmon exited, and deletes the
// directories.
func StartPodman(tb testing.TB, ns string) *Podman {
	tb.Helper()
	dir, err := os.MkdirTemp("", "expo-podman-")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Podman{tb: tb, ns: ns, Dir: dir}
	left := absent(append(podmanLeftovers, cgroupDirs("libpod_parent/conmon", "libpod_parent")...)...)
	tb.Cleanup(func() { p.close(left) })
	return p
}

// CLI runs podman with the lab's global options inside the namespace and
// returns its stdout.
func (p *Podman) CLI(args ...string) (string, error) {
	global := []string{"podman", "--root", filepath.Join(p.Dir, "root"), "--runroot", filepath.Join(p.Dir, "run"),
		"--tmpdir", filepath.Join(p.Dir, "tmp"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
		"--events-backend", "file", "--network-backend", "netavark", "--network-config-dir", filepath.Join(p.Dir, "net")}
	argv := inNetns(p.ns, append(global, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Import loads the busybox root filesystem as image ref.
func (p *Podman) Import(ref string) {
	p.tb.Helper()
	tarPath, err := BusyboxTar(p.Dir)
	if err != nil {
		p.tb.Fatal(err)
	}
	if _, err := p.CLI("import", tarPath, ref); err != nil {
		p.tb.Fatal(err)
	}
}

// Run runs "podman run -d" with rlimits the machine's hard limits allow
// (podman's defaults exceed them and runc fails with "error setting
// rlimit"), then args, and returns the container id.
func (p *Podman) Run(args ...string) string {
	p.tb.Helper()
	out, err := p.CLI(append([]string{"run", "-d", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}, args...)...)
	if err != nil {
		p.tb.Fatal(err)
	}
	c := podmanContainer{id: strings.TrimSpace(out)}
	p.containers = append(p.containers, c)
	i := len(p.containers) - 1
	p.containers[i].sandbox = p.Inspect(c.id, "{{.NetworkSettings.SandboxKey}}")
	p.containers[i].conmon, _ = strconv.Atoi(p.Inspect(c.id, "{{.State.ConmonPid}}"))
	return c.id
}

// Inspect returns "podman inspect -f FORMAT ID".
func (p *Podman) Inspect(id, format string) string {
	p.tb.Helper()
	out, err := p.CLI("inspect", "-f", format, id)
	if err != nil {
		p.tb.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// close removes the containers (no stop grace: busybox as PID 1 ignores
// SIGTERM), makes sure their conmon and network namespace are gone, and
// deletes the directories.
func (p *Podman) close(left leftovers) {
	for _, c := range p.containers {
		if _, err := p.CLI("rm", "-f", "-t", "0", c.id); err != nil {
			p.tb.Error(err)
		}
		p.reap(c)
	}
	if err := os.RemoveAll(p.Dir); err != nil {
		p.tb.Error(err)
	}
	if err := left.remove(); err != nil {
		p.tb.Error(err)
	}
}

// reap stops a container's conmon if it outlived "podman rm" and deletes a
// sandbox namespace left behind.
func (p *Podman) reap(c podmanContainer) {
	for i := 0; c.conmon > 0 && i < 50 && alive(c.conmon); i++ {
		if i == 30 {
			_ = syscall.Kill(c.conmon, syscall.SIGTERM)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.sandbox != "" {
		if _, err := os.Stat(c.sandbox); err == nil {
			name := filepath.Base(c.sandbox)
			if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
				p.tb.Errorf("ip netns delete %s: %v: %s", name, err, out)
			}
		}
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}
