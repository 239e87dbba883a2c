package k8slab

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNS runs fn on a fresh OS thread that has entered network namespace ns.
// The thread stays locked and exits with its goroutine, so no thread of the
// process is left in a foreign namespace; sockets fn opens stay in ns for
// their whole life and may be used from any goroutine.
func inNS(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		errc <- enterNS(ns, fn)
	}()
	return <-errc
}

func enterNS(ns string, fn func() error) error {
	f, err := os.Open(nsPath(ns))
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter netns %s: %w", ns, err)
	}
	return fn()
}
