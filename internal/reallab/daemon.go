package reallab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long a daemon has to exit after SIGTERM.
const stopGrace = 15 * time.Second

// daemon is a long-running process started inside a network namespace.
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  string
}

// inNetns returns the nsenter argv that runs argv inside namespace ns.
func inNetns(ns string, argv ...string) []string {
	return append([]string{"nsenter", "--net=/run/netns/" + ns, "--"}, argv...)
}

// startDaemon starts argv in namespace ns with env added to the process's
// environment, its output going to logPath.
func startDaemon(name, ns, logPath string, env []string, argv ...string) (*daemon, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	full := inNetns(ns, argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { d.done <- cmd.Wait(); logf.Close() }()
	return d, nil
}

// exited reports whether the daemon has already stopped.
func (d *daemon) exited() bool {
	select {
	case err := <-d.done:
		d.done <- err
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the recorded process (nsenter execs the daemon, so
// the pid is the daemon's), waits stopGrace, then SIGKILLs it.
func (d *daemon) stop() error {
	if d.exited() {
		return nil
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", d.name, err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	return fmt.Errorf("stop %s: no exit %v after SIGTERM, killed", d.name, stopGrace)
}

// tail returns the end of the daemon's log, for error messages.
func (d *daemon) tail() string {
	b, err := os.ReadFile(d.log)
	if err != nil {
		return err.Error()
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// waitFor polls ok every 100 ms until it returns nil, the daemon exits, or
// timeout passes.
func (d *daemon) waitFor(timeout time.Duration, ok func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ok()
		if err == nil {
			return nil
		}
		if d.exited() {
			return fmt.Errorf("%s exited: %v\n%s", d.name, err, d.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v\n%s", d.name, timeout, err, d.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
