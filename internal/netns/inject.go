package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Do runs fn on a fresh OS thread that has entered namespace ns of this lab
// (see InNetns).
func (l *Lab) Do(ns string, fn func() error) error { return InNetns("/run/netns/"+ns, fn) }

// InNetns runs fn on a fresh OS thread that has entered the network
// namespace file path (setns(2) with CLONE_NEWNET): "/run/netns/NAME" for a
// namespace made by "ip netns add", "/proc/PID/ns/net" for a process's. The
// thread stays locked and exits with its goroutine, so no thread of the
// process is ever left in a foreign namespace. Sockets fn creates belong to
// that namespace for their whole life and may be used from any goroutine.
func InNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		errc <- enter(path, fn)
	}()
	return <-errc
}

// enter switches the calling (locked) thread to the namespace file path and
// runs fn.
func enter(path string, fn func() error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter netns %s: %w", path, err)
	}
	return fn()
}

// Inject sends one probe (see Probe for where it enters).
func (l *Lab) Inject(p Probe) error { return l.InjectN([]Probe{p}) }

// InjectN sends probes in order, opening each kind of socket once: one AF_PACKET
// socket per peer namespace for Via probes, one raw IPPROTO_RAW socket per
// family in the node namespace (header included, IP_HDRINCL/IPV6_HDRINCL implied)
// for FromNode probes. A FromNode probe dropped in OUTPUT or POSTROUTING makes
// the kernel fail the send with EPERM; that is the firewall's verdict, not an
// error, and InjectN goes on. Delivery on the veth is synchronous in practice (the
// receive softirq runs as the send returns) but not guaranteed.
func (l *Lab) InjectN(probes []Probe) error {
	s := &senders{lab: l, fds: map[string]int{}}
	defer s.close()
	for i, p := range probes {
		if err := s.send(p); err != nil && !(p.FromNode && errors.Is(err, unix.EPERM)) {
			return fmt.Errorf("inject probe %d (%v): %w", i, p, err)
		}
	}
	return nil
}

// senders holds the sockets InjectN opened: AF_PACKET ones keyed by namespace,
// raw ones by "raw4" and "raw6".
type senders struct {
	lab *Lab
	fds map[string]int
}

// send builds p and sends it through the right socket.
func (s *senders) send(p Probe) error {
	pkt, err := p.Bytes()
	if err != nil {
		return err
	}
	if p.FromNode {
		return s.sendRaw(p.family(), pkt, p.Dst)
	}
	k, ok := s.lab.Link(p.Via)
	if !ok || k.Peer != p.Via {
		return fmt.Errorf("send probe: Via %q is not a peer link (c0, c2, s0)", p.Via)
	}
	ns := s.lab.NS(k.PeerRole)
	fd, err := s.socket(ns, ns, unix.AF_PACKET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	dst := k.MAC
	if p.EthDst != nil {
		dst = p.EthDst
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: k.PeerIdx, Halen: uint8(len(dst))}
	if p.family() == 6 {
		sa.Protocol = htons(unix.ETH_P_IPV6)
	}
	copy(sa.Addr[:], dst)
	return unix.Sendto(fd, pkt, 0, sa)
}

// sendRaw sends pkt from the node through a raw socket of the family.
func (s *senders) sendRaw(fam int, pkt []byte, dst netip.Addr) error {
	domain, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Addr: dst.As16()})
	if fam == 4 {
		domain, sa = unix.AF_INET, &unix.SockaddrInet4{Addr: dst.As4()}
	}
	fd, err := s.socket(fmt.Sprint("raw", fam), s.lab.NodeNS, domain, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return err
	}
	return unix.Sendto(fd, pkt, 0, sa)
}

// socket returns the socket under key, opening it inside ns the first time.
func (s *senders) socket(key string, ns string, domain, typ, proto int) (int, error) {
	if fd, ok := s.fds[key]; ok {
		return fd, nil
	}
	var fd int
	err := s.lab.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("open socket in %s: %w", ns, err)
	}
	s.fds[key] = fd
	return fd, nil
}

// close closes every socket opened.
func (s *senders) close() {
	for _, fd := range s.fds {
		_ = unix.Close(fd)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Listen opens a stream listener ("tcp", "tcp4", "tcp6") on address inside ns.
// It is closed at cleanup if the caller has not closed it.
func (l *Lab) Listen(ns, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := l.Do(ns, func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen %s %s in %s: %w", network, address, ns, err)
	}
	l.track(ln)
	return ln, nil
}

// ListenPacket opens a datagram socket ("udp", "udp4", "udp6") on address inside
// ns. Bind a specific address: a wildcard UDP socket answers from the primary
// address, which a client that sent to another one ignores.
func (l *Lab) ListenPacket(ns, network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := l.Do(ns, func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen %s %s in %s: %w", network, address, ns, err)
	}
	l.track(pc)
	return pc, nil
}

// Dial connects from inside ns to address (an IP literal and port) within timeout.
// For "tcp" a nil error means the three-way handshake completed.
func (l *Lab) Dial(ns, network, address string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := l.Do(ns, func() error {
		var err error
		c, err = net.DialTimeout(network, address, timeout)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s %s from %s: %w", network, address, ns, err)
	}
	l.track(c)
	return c, nil
}
