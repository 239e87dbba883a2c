package k8slab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// spawns carries process starts to the spawner thread.
var spawns = make(chan func())

// The spawner goroutine owns one locked OS thread for the life of the test
// binary. PR_SET_PDEATHSIG fires when the thread that forked the child
// exits, and the Go runtime ends threads whose goroutine exits locked (as
// the namespace helpers do): forking from this thread only ties the children
// to the life of the whole process.
func init() {
	go func() {
		runtime.LockOSThread()
		for f := range spawns {
			f()
		}
	}()
}

// proc is one daemon the lab started, with its log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // exit status, valid after done
}

// startProc starts argv with stdout and stderr appended to logPath; the
// child is killed if the test binary dies.
func startProc(name, logPath string, argv ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errc := make(chan error, 1)
	spawns <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILL. It returns nil for
// a process that ended on the signal.
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return p.exitErr()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("stop %s: killed after %v without exiting on SIGTERM", p.name, grace)
	}
	return nil
}

// exitErr describes how a process that ended on its own ended.
func (p *proc) exitErr() error {
	if p.err == nil {
		p.err = errors.New("exited with status 0")
	}
	return fmt.Errorf("%s ended: %w; log %s:\n%s", p.name, p.err, p.log, p.tail(30))
}

// tail returns the last n lines of the log.
func (p *proc) tail(n int) string {
	data, _ := os.ReadFile(p.log)
	return lastLines(string(data), n)
}

// waitFor polls ready until it returns nil, the process ends, or timeout.
func (p *proc) waitFor(what string, timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p.exited() {
			return p.exitErr()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s: not after %v: %w; log %s:\n%s", what, timeout, err, p.log, p.tail(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
