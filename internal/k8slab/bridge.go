package k8slab

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// Bridge opens the API server's address (127.0.0.1:PORT) on the loopback
// of namespace ns and relays every connection to the API server on the
// test binary's own loopback, so the cluster's kubeconfig works unchanged
// inside ns (for kube-proxy and `exposure audit`). The relay is the test
// process itself: its listener is created by a thread inside ns and its
// outgoing connections by threads of the original namespace. It is closed
// with the topology.
func (t *Topology) Bridge(c *Cluster, ns string) error {
	var ln net.Listener
	err := inNS(ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", c.Host)
		return err
	})
	if err != nil {
		return fmt.Errorf("bridge API server into %s: %w", ns, err)
	}
	b := &bridge{ln: ln, target: c.Host}
	t.track(b)
	go b.serve()
	return nil
}

// bridge relays connections accepted by ln to target.
type bridge struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func (b *bridge) serve() {
	for {
		in, err := b.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp4", b.target)
		if err != nil {
			in.Close()
			continue
		}
		if !b.keep(in, out) {
			return
		}
		go relay(in, out)
		go relay(out, in)
	}
}

// keep records a connection pair to close with the bridge; false when the
// bridge is already closed (the pair is closed then).
func (b *bridge) keep(in, out net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		in.Close()
		out.Close()
		return false
	}
	b.conns = append(b.conns, in, out)
	return true
}

// relay copies src to dst and then closes both.
func relay(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Close stops accepting and closes every relayed connection.
func (b *bridge) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	err := b.ln.Close()
	for _, c := range b.conns {
		c.Close()
	}
	b.conns = nil
	return err
}
