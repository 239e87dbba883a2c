package logs

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// Exec starts a read-only command and returns its standard output; Close
// waits for it and reports a failed exit. It is the edge to os/exec, so
// tests can pass a fake.
type Exec interface {
	Start(ctx context.Context, name string, args ...string) (io.ReadCloser, error)
}

// JournalUnits are the units whose journal exposure reads: the runtimes,
// the firewall and the node services that may log port changes. systemd's
// own Started/Stopping lines for a unit come with -u too.
var JournalUnits = []string{"crio.service", "docker.service", "firewalld.service",
	"kube-proxy.service", "kubelet.service", "microshift.service", "ovnkube-node.service"}

// JournalArgs are the journalctl(1) arguments for the units: JSON output
// (MESSAGE as string or byte array, __REALTIME_TIMESTAMP), no pager, the
// time window, and -f -n all to keep reading.
func JournalArgs(since, until time.Time, follow bool) []string {
	args := []string{"-o", "json", "--no-pager", "--quiet"}
	for _, u := range JournalUnits {
		args = append(args, "-u", u)
	}
	if !since.IsZero() {
		args = append(args, "--since", "@"+fmt.Sprint(since.Unix()))
	}
	if !until.IsZero() {
		args = append(args, "--until", "@"+fmt.Sprint(until.Unix()))
	}
	if follow {
		args = append(args, "--follow", "--lines", "all")
	}
	return args
}

// JournalInput reads `journalctl -o json` for JournalUnits through x.
func JournalInput(x Exec, since, until time.Time, follow bool) Input {
	return Input{Name: "journal", Open: func(ctx context.Context) (io.ReadCloser, error) {
		return x.Start(ctx, "journalctl", JournalArgs(since, until, follow)...)
	}}
}

// OSExec runs commands with os/exec.
type OSExec struct{}

// Start starts name with args; stderr is kept for the error of Close.
func (OSExec) Start(ctx context.Context, name string, args ...string) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &cmdReader{ReadCloser: out, cmd: cmd, stderr: &stderr, ctx: ctx}, nil
}

type cmdReader struct {
	io.ReadCloser
	cmd    *exec.Cmd
	stderr *limitedBuffer
	ctx    context.Context
}

// Close implements io.Closer.
func (c *cmdReader) Close() error {
	_ = c.ReadCloser.Close()
	err := c.cmd.Wait()
	if err != nil && c.ctx.Err() == nil {
		return fmt.Errorf("run %s: %w: %s", c.cmd.Path, err, c.stderr.b)
	}
	return nil
}

// limitedBuffer keeps the first 4 KiB of a command's stderr.
type limitedBuffer struct{ b []byte }

// Write implements io.Writer.
func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
