package reallab

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// InNetnsOf runs fn on a fresh OS thread that has entered the network
// namespace of process pid (a container's init, read back with inspect).
// The thread stays locked and dies with its goroutine; sockets fn opens
// stay in that namespace.
func InNetnsOf(pid int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			errc <- fmt.Errorf("open netns of %d: %w", pid, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter netns of %d: %w", pid, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// UDPEcho opens a UDP socket on addr inside the network namespace of pid
// that answers every datagram with "echo:" and the datagram, until the
// returned socket is closed. Busybox has no UDP server that answers.
func UDPEcho(pid int, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := InNetnsOf(pid, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("udp echo on %s: %w", addr, err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	}()
	return pc, nil
}
