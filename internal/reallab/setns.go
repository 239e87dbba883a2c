package reallab

import (
	"fmt"
	"net"

	"github.com/exposure-audit/exposure/internal/netns"
)

// PidNetns is the network namespace file of process pid (a container's
// init, read back with inspect).
func PidNetns(pid int) string { return fmt.Sprintf("/proc/%d/ns/net", pid) }

// NamedNetns is the file of a namespace made with "ip netns add NAME".
func NamedNetns(name string) string { return "/run/netns/" + name }

// UDPEcho opens a UDP socket on addr inside the network namespace nsPath
// that answers every datagram with "echo:" and the datagram, until the
// returned socket is closed. Busybox has no UDP server that answers.
func UDPEcho(nsPath, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := netns.InNetns(nsPath, func() error {
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

// TCPBanner opens a TCP listener on addr inside the network namespace
// nsPath that writes banner to every connection and closes it, until the
// returned listener is closed.
func TCPBanner(nsPath, addr, banner string) (net.Listener, error) {
	var ln net.Listener
	err := netns.InNetns(nsPath, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tcp banner on %s: %w", addr, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(banner))
			_ = c.Close()
		}
	}()
	return ln, nil
}
