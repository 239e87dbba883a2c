package reallab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DockerCLI is the Docker client the lab calls. It is named by its full
// path: a stray newer CLI in /usr/local/bin may shadow Debian's on PATH.
const DockerCLI = "/usr/bin/docker"

// DockerOptions choose how dockerd runs.
type DockerOptions struct {
	// Legacy makes dockerd write its rules with iptables-legacy: a PATH
	// directory whose iptables* names link to the *-legacy programs.
	Legacy bool
	// NoUserlandProxy passes --userland-proxy=false (no docker-proxy
	// processes; dockerd itself holds nothing either).
	NoUserlandProxy bool
}

// Docker is a dockerd running in one network namespace with private
// data, exec and socket paths.
type Docker struct {
	tb   testing.TB
	Dir  string // private directory: data-root, exec-root, socket, logs
	Sock string // the API socket, unix://...
	d    *daemon
	// containers started by Run, removed at cleanup.
	containers []string
}

// dockerLeftovers are paths outside its private directories that dockerd,
// its containerd and shims may create.
var dockerLeftovers = []string{"/run/containerd", "/run/docker", "/var/run/docker", "/run/runc", "/etc/docker/key.json"}

// StartDocker starts dockerd inside namespace ns and waits for its API.
// Its cleanup removes the containers Run started, stops dockerd and
// deletes its directories.
func StartDocker(tb testing.TB, ns string, opts DockerOptions) *Docker {
	tb.Helper()
	dir, err := os.MkdirTemp("", "expo-dockerd-")
	if err != nil {
		tb.Fatal(err)
	}
	left := absent(append(dockerLeftovers, cgroupDirs("docker")...)...)
	dk := &Docker{tb: tb, Dir: dir, Sock: "unix://" + filepath.Join(dir, "sock")}
	env, err := dockerEnv(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	argv := []string{"dockerd", "--debug", "--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "pid"), "-H", dk.Sock, "--storage-driver", "vfs",
		"--shutdown-timeout", "2"}
	if opts.NoUserlandProxy {
		argv = append(argv, "--userland-proxy=false")
	}
	dk.d, err = startDaemon("dockerd", ns, filepath.Join(dir, "dockerd.log"), env, argv...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dk.close(left) })
	if err := dk.d.waitFor(30*time.Second, func() error { _, err := dk.CLI("version"); return err }); err != nil {
		tb.Fatal(err)
	}
	return dk
}

// dockerEnv returns the extra environment of dockerd: for Legacy, a PATH
// whose first directory maps iptables* onto the legacy programs.
func dockerEnv(dir string, opts DockerOptions) ([]string, error) {
	if !opts.Legacy {
		return nil, nil
	}
	bin := filepath.Join(dir, "legacy-bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, fmt.Errorf("legacy PATH: %w", err)
	}
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, suffix := range []string{"", "-save", "-restore"} {
			target, err := exec.LookPath(fam + "-legacy" + suffix)
			if err != nil {
				return nil, fmt.Errorf("legacy PATH: %w", err)
			}
			if err := os.Symlink(target, filepath.Join(bin, fam+suffix)); err != nil {
				return nil, fmt.Errorf("legacy PATH: %w", err)
			}
		}
	}
	return []string{"PATH=" + bin + ":" + os.Getenv("PATH")}, nil
}

// CLI runs the Docker client against this daemon and returns its stdout.
func (dk *Docker) CLI(args ...string) (string, error) {
	cmd := exec.Command(DockerCLI, append([]string{"-H", dk.Sock}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Import loads the busybox root filesystem as image ref ("docker import").
func (dk *Docker) Import(ref string) {
	dk.tb.Helper()
	tarPath, err := BusyboxTar(dk.Dir)
	if err != nil {
		dk.tb.Fatal(err)
	}
	if _, err := dk.CLI("import", tarPath, ref); err != nil {
		dk.tb.Fatal(err)
	}
}

// Run runs "docker run -d ARGS..." and returns the container id.
func (dk *Docker) Run(args ...string) string {
	dk.tb.Helper()
	out, err := dk.CLI(append([]string{"run", "-d"}, args...)...)
	if err != nil {
		dk.tb.Fatalf("%v\n%s", err, dk.d.tail())
	}
	id := strings.TrimSpace(out)
	dk.containers = append(dk.containers, id)
	return id
}

// Inspect returns "docker inspect -f FORMAT ID".
func (dk *Docker) Inspect(id, format string) string {
	dk.tb.Helper()
	out, err := dk.CLI("inspect", "-f", format, id)
	if err != nil {
		dk.tb.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// Pid returns dockerd's pid.
func (dk *Docker) Pid() int { return dk.d.cmd.Process.Pid }

// close removes the containers, stops dockerd, then deletes what it made.
func (dk *Docker) close(left leftovers) {
	if len(dk.containers) > 0 {
		if _, err := dk.CLI(append([]string{"rm", "-f"}, dk.containers...)...); err != nil {
			dk.tb.Errorf("remove containers: %v", err)
		}
	}
	if err := dk.d.stop(); err != nil {
		dk.tb.Errorf("%v\n%s", err, dk.d.tail())
	}
	if err := os.RemoveAll(dk.Dir); err != nil {
		dk.tb.Errorf("remove dockerd directory: %v", err)
	}
	if err := left.remove(); err != nil {
		dk.tb.Error(err)
	}
}
