package k8slab

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Greeting is what pod's listeners send on port: to a TCP client on
// accept, to a UDP client in answer to each datagram. A client reads it to
// know which endpoint it reached.
func Greeting(pod string, port int) string { return pod + ":" + strconv.Itoa(port) }

// ServeTCP listens on 0.0.0.0:port in the pod and greets every connection.
func (p *Pod) ServeTCP(port int) error {
	var ln net.Listener
	err := inNS(p.NS, func() error {
		var err error
		ln, err = net.Listen("tcp4", "0.0.0.0:"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		return fmt.Errorf("listen tcp %d in %s: %w", port, p.Name, err)
	}
	p.topo.track(ln)
	hello := []byte(Greeting(p.Name, port) + "\n")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write(hello)
			_ = c.Close()
		}
	}()
	return nil
}

// ServeUDP listens on udp port in the pod (bound to the pod's address, so
// answers leave from it) and answers every datagram with the greeting.
func (p *Pod) ServeUDP(port int) error {
	var pc net.PacketConn
	err := inNS(p.NS, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(p.IP, uint16(port)).String())
		return err
	})
	if err != nil {
		return fmt.Errorf("listen udp %d in %s: %w", port, p.Name, err)
	}
	p.topo.track(pc)
	hello := []byte(Greeting(p.Name, port) + "\n")
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(hello, from)
		}
	}()
	return nil
}

// Hello connects from the client namespace, from source address src, to
// dst over network ("tcp" or "udp") and returns the greeting that came
// back. For UDP, a missing answer is an error like a refused connection.
func (t *Topology) Hello(src netip.Addr, network string, dst netip.AddrPort, timeout time.Duration) (string, error) {
	var reply string
	err := inNS(t.Client, func() error {
		var err error
		reply, err = hello(src, network, dst, timeout)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%s %s → %s: %w", network, src, dst, err)
	}
	return reply, nil
}

func hello(src netip.Addr, network string, dst netip.AddrPort, timeout time.Duration) (string, error) {
	var local net.Addr = &net.TCPAddr{IP: src.AsSlice()}
	if network == "udp" {
		local = &net.UDPAddr{IP: src.AsSlice()}
	}
	d := net.Dialer{Timeout: timeout, LocalAddr: local}
	c, err := d.Dial(network+"4", dst.String())
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if network == "udp" {
		if _, err := c.Write([]byte("hello")); err != nil {
			return "", err
		}
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("empty greeting")
	}
	return line, nil
}

// Connect opens a TCP connection from the client namespace, from source
// address src, to dst, and closes it: nil means the handshake completed
// (for listeners that send nothing first, such as kube-proxy's health
// check server).
func (t *Topology) Connect(src netip.Addr, dst netip.AddrPort, timeout time.Duration) error {
	return inNS(t.Client, func() error {
		d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
		c, err := d.Dial("tcp4", dst.String())
		if err != nil {
			return fmt.Errorf("tcp %s → %s: %w", src, dst, err)
		}
		return c.Close()
	})
}
