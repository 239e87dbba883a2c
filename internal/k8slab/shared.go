package k8slab

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

var shared struct {
	sync.Mutex
	tried bool
	c     *Cluster
	err   error
}

// Shared returns the test binary's API server, starting it on first use;
// it skips tb when the binaries are missing (fails when Required). The
// package's TestMain must call Main so that it is stopped.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	bins := Need(tb)
	shared.Lock()
	defer shared.Unlock()
	if !shared.tried {
		shared.tried = true
		shared.c, shared.err = Start(bins)
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.c
}

// Main runs the tests and then stops the shared API server, if one was
// started; use it as os.Exit(k8slab.Main(m)) in TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.c != nil {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "k8slab: stop API server: %v\n", err)
		}
		shared.c = nil
	}
	return code
}
