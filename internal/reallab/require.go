package reallab

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequiredEnv is the environment variable that turns a missing component
// into a test failure instead of a skip.
const RequiredEnv = "EXPOSURE_REAL_REQUIRED"

// Need skips tb (or fails it when RequiredEnv is "1") unless the process
// is root and every program in bins is found, by absolute path or on PATH.
func Need(tb testing.TB, bins ...string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: network namespaces and real daemons")
	}
	var missing []string
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "needs " + strings.Join(missing, ", ") + " (Debian: docker.io containerd runc busybox-static " +
		"containernetworking-plugins conmon podman netavark firewalld dbus nmap)"
	if os.Getenv(RequiredEnv) == "1" {
		tb.Fatal(msg + "; " + RequiredEnv + "=1")
	}
	tb.Skip(msg)
}
