package k8slab

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// execOutput runs argv and returns its stdout; a failure quotes stderr.
func execOutput(argv ...string) (string, error) {
	return execInput("", argv...)
}

// execInput runs argv with stdin and returns its stdout.
func execInput(stdin string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("run %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// nsRun runs argv inside network namespace ns with nsenter --net, which,
// unlike ip netns exec, leaves /sys mounted as it is.
func nsRun(ns string, argv ...string) (string, error) {
	return execOutput(append([]string{"nsenter", "--net=" + nsPath(ns), "--"}, argv...)...)
}

// nsPath is the bind mount ip netns creates for ns.
func nsPath(ns string) string { return "/run/netns/" + ns }

// lookPath finds an executable on PATH.
func lookPath(name string) (string, error) { return exec.LookPath(name) }
