package k8slab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Version is the Kubernetes release scripts/k8s-bins builds (its
// K8S_VERSION): kube-apiserver and kube-proxy, matching client-go v0.34.2.
const Version = "v1.34.2"

// Environment variables the lab reads.
const (
	// EnvBin names a directory holding kube-apiserver and kube-proxy (and
	// optionally etcd), used instead of the cache.
	EnvBin = "EXPOSURE_K8S_BIN"
	// EnvRequired set to 1 turns a missing binary into a test failure and
	// lets Find build the binaries with scripts/k8s-bins (CI sets it).
	EnvRequired = "EXPOSURE_K8S_REQUIRED"
)

// Binaries are the executables the lab runs.
type Binaries struct {
	Etcd, APIServer, Proxy string
}

var found struct {
	sync.Once
	bins Binaries
	err  error
}

// Required reports whether EXPOSURE_K8S_REQUIRED=1.
func Required() bool { return os.Getenv(EnvRequired) == "1" }

// Need returns the binaries, or skips tb with a message saying how to get
// them (fails it when Required).
func Need(tb testing.TB) Binaries {
	tb.Helper()
	found.Do(func() { found.bins, found.err = Find() })
	if found.err != nil {
		unavailable(tb, found.err)
	}
	return found.bins
}

// unavailable skips tb, or fails it when the lab is required.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("kubernetes lab required (%s=1) but unavailable: %v", EnvRequired, err)
	}
	tb.Skipf("needs kube-apiserver/kube-proxy %s and etcd: %v (run scripts/k8s-bins and apt-get install etcd-server, or set %s)", Version, err, EnvBin)
}

// Find locates the binaries: $EXPOSURE_K8S_BIN, else the cache of
// scripts/k8s-bins, else (only when Required) the directory scripts/k8s-bins
// prints after building them. etcd is looked up in that directory, then on
// PATH.
func Find() (Binaries, error) {
	dir := os.Getenv(EnvBin)
	if dir == "" {
		dir = cacheBinDir()
		if !complete(dir) && Required() {
			var err error
			if dir, err = buildBins(); err != nil {
				return Binaries{}, err
			}
		}
	}
	if !complete(dir) {
		return Binaries{}, fmt.Errorf("no kube-apiserver and kube-proxy in %s", dir)
	}
	b := Binaries{APIServer: filepath.Join(dir, "kube-apiserver"), Proxy: filepath.Join(dir, "kube-proxy"), Etcd: filepath.Join(dir, "etcd")}
	if !executable(b.Etcd) {
		p, err := exec.LookPath("etcd")
		if err != nil {
			return Binaries{}, fmt.Errorf("find etcd (Debian package etcd-server): %w", err)
		}
		b.Etcd = p
	}
	return b, nil
}

// cacheBinDir is where scripts/k8s-bins puts the binaries: the same
// $EXPOSURE_CACHE default as scripts/lib.sh.
func cacheBinDir() string {
	cache := os.Getenv("EXPOSURE_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			base = filepath.Join(os.Getenv("HOME"), ".cache")
		}
		cache = filepath.Join(base, "exposure")
	}
	return filepath.Join(cache, "k8s", Version, "bin")
}

func complete(dir string) bool {
	return executable(filepath.Join(dir, "kube-apiserver")) && executable(filepath.Join(dir, "kube-proxy"))
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// buildBins runs scripts/k8s-bins and returns the directory it prints.
func buildBins() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "scripts", "k8s-bins"))
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("run scripts/k8s-bins: %w: %s", err, lastLines(errb.String(), 20))
	}
	lines := strings.Fields(out.String())
	if len(lines) == 0 {
		return "", errors.New("run scripts/k8s-bins: no directory printed")
	}
	return lines[len(lines)-1], nil
}

// repoRoot returns the repository's top directory: the nearest parent of
// the working directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
