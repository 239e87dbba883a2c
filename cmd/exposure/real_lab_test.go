package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/internal/netns"
	"github.com/exposure-audit/exposure/internal/reallab"
	"golang.org/x/sys/unix"
)

// The real-component lab tests (real_*_lab_test.go) start the real
// component (dockerd, the CNI plugins, podman, firewalld) in the node
// namespace of an internal/netns lab, run the built `exposure audit` live
// there, and compare it with a full `nmap -sS -p-` from the client
// namespace, a UDP sample, ICMP echo and real connections. A forwarded
// port's expected answer is what its destination answers to a real
// connection made from the node namespace.

// realLab builds a lab for a real-component test, or skips (fails with
// EXPOSURE_REAL_REQUIRED=1) when a program is missing.
func realLab(t *testing.T, bins ...string) *netns.Lab {
	t.Helper()
	reallab.Need(t, append([]string{"nmap", "nsenter", "ip", "nft", "conntrack", "iptables-nft-save",
		"iptables-legacy-save"}, bins...)...)
	lab := netns.New(t)
	// ICMP errors (firewalld's reject with admin-prohibited) are rate
	// limited per peer and per namespace; a scan that gets every answer
	// ends sooner and sees the same states (filtered either way).
	if _, err := lab.Run(lab.NodeNS, "", "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0",
		"net.ipv4.icmp_msgs_per_sec=1000000", "net.ipv4.icmp_msgs_burst=1000000", "net.ipv6.icmp.ratelimit=0"); err != nil {
		t.Fatal(err)
	}
	return lab
}

// view is where a scanner stands: the client's address, the node
// interface its packets arrive on, and the node address it scans.
type view struct{ from, iface, addr string }

// n0View is the client on c0 scanning the node's n0 address; n2View the
// client on c2 scanning n2's (another link, another source).
var (
	n0View = view{labClient, "n0", labTarget}
	n2View = view{"192.0.2.130", "n2", "192.0.2.129"}
)

// family is nmap's address family flag for the view.
func (v view) family() string {
	if strings.Contains(v.addr, ":") {
		return "-6"
	}
	return "-4"
}

// realAudit runs the live audit of v.addr as seen by v.from on v.iface,
// proves it left the rules unchanged, and returns the report.
func realAudit(t *testing.T, lab *netns.Lab, v view) exposure.Report {
	t.Helper()
	bin := exposureBinary(t)
	before := rulesText(t, lab)
	out, err := lab.Run(lab.NodeNS, "", bin, "audit", "--from", v.from, "-i", v.iface, "--addr", v.addr,
		"--proto", "tcp,udp,icmp", "-o", "json")
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if after := rulesText(t, lab); after != before {
		t.Fatalf("the audit changed the rules:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var rep exposure.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("parse audit JSON: %v", err)
	}
	return rep
}

// exposureAt returns the one exposure row of proto/port, failing when the
// port is covered by none or by several (source classes).
func exposureAt(t *testing.T, rep exposure.Report, proto string, port int) exposure.Exposure {
	t.Helper()
	var found []exposure.Exposure
	for _, e := range rep.Exposures {
		if e.Proto == proto && e.PortFrom <= port && port <= e.PortTo {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s/%d: %d exposure rows, want 1: %+v", proto, port, len(found), found)
	}
	return found[0]
}

// targetState is what a real connection from the node namespace to a
// forwarded port's destination meets, in nmap's vocabulary: TCP open
// (handshake), closed (RST) or filtered; UDP open (an answer), closed
// (port unreachable) or open|filtered (silence).
func targetState(t *testing.T, lab *netns.Lab, proto, addr string, port int) string {
	t.Helper()
	hp := net.JoinHostPort(addr, strconv.Itoa(port))
	c, err := lab.Dial(lab.NodeNS, proto, hp, 2*time.Second)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ECONNREFUSED):
		return exposure.Closed
	case proto == "tcp":
		return exposure.Filtered
	default:
		t.Fatalf("dial %s %s: %v", proto, hp, err)
	}
	defer c.Close()
	if proto == "tcp" {
		return exposure.Open
	}
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("probe")); err != nil {
		t.Fatalf("udp %s: %v", hp, err)
	}
	buf := make([]byte, 512)
	_, err = c.Read(buf)
	switch {
	case err == nil:
		return exposure.Open
	case errors.Is(err, syscall.ECONNREFUSED):
		return exposure.Closed
	}
	return "open|filtered"
}

// expectedStates maps each port of proto to what a scanner at labClient
// should see: the audit's state, or for a forwarded port the state of its
// destination (one destination; several are a random choice, not
// compared). Ports the audit gives several answers or conditions are
// "conditional".
func expectedStates(t *testing.T, lab *netns.Lab, rep exposure.Report, proto string) map[int]string {
	t.Helper()
	states := map[int]string{}
	dest := map[string]string{}
	for _, e := range rep.Exposures {
		if e.Proto != proto {
			continue
		}
		st := e.State
		if len(e.Conditions) > 0 || (st == exposure.Forwarded && len(e.To) != 1) {
			st = "conditional"
		}
		for p := e.PortFrom; p <= e.PortTo; p++ {
			s := st
			if s == exposure.Forwarded {
				s = forwardedState(t, lab, dest, proto, e.To[0], p-e.PortFrom)
			}
			if old, ok := states[p]; ok && old != s {
				s = "conditional"
			}
			states[p] = s
		}
	}
	return states
}

// forwardedState asks the destination of a forwarded port (offset within
// a range that keeps its ports), caching the answers in dest.
func forwardedState(t *testing.T, lab *netns.Lab, dest map[string]string, proto string, to exposure.Target, off int) string {
	port := to.Port
	if to.PortTo != 0 {
		port += off
	}
	key := fmt.Sprintf("%s %s %d", proto, to.Addr, port)
	if s, ok := dest[key]; ok {
		return s
	}
	s := targetState(t, lab, proto, to.Addr, port)
	dest[key] = s
	return s
}

// compareTCP compares every TCP port of the audit with a full SYN scan
// from the client namespace and returns how many ports agreed.
func compareTCP(t *testing.T, lab *netns.Lab, rep exposure.Report, v view) int {
	t.Helper()
	want := expectedStates(t, lab, rep, "tcp")
	start := time.Now()
	out, err := lab.Run(lab.ClientNS, "", "nmap", v.family(), "-sS", "-p-", "-n", "-Pn", "-g", "40000", "-T4",
		"--max-retries", "2", "--min-rate", "5000", "-oX", "-", v.addr)
	if err != nil {
		t.Fatalf("nmap: %v", err)
	}
	got := parseNmapPorts(t, out)
	t.Logf("nmap -sS -p- took %v", time.Since(start).Round(time.Millisecond))
	n, cond := 0, 0
	for p := 1; p <= 65535; p++ {
		switch {
		case want[p] == "conditional":
			cond++
		case got[p] != want[p]:
			t.Errorf("tcp port %d: nmap says %q, exposure says %q", p, got[p], want[p])
		default:
			n++
		}
	}
	t.Logf("%s: %d TCP ports agree with nmap -sS -p- (%d conditional, not compared)", v.addr, n, cond)
	return n
}

// compareUDP compares a sample of UDP ports with nmap -sU, and ICMP echo
// with an nmap ping.
func compareUDPAndICMP(t *testing.T, lab *netns.Lab, rep exposure.Report, v view, ports []int) {
	t.Helper()
	want := expectedStates(t, lab, rep, "udp")
	list := make([]string, len(ports))
	for i, p := range ports {
		list[i] = strconv.Itoa(p)
	}
	out, err := lab.Run(lab.ClientNS, "", "nmap", v.family(), "-sU", "-n", "-Pn", "-g", "40000", "--max-retries", "3",
		"-p", strings.Join(list, ","), "--data-string", "probe", "-oX", "-", v.addr)
	if err != nil {
		t.Fatalf("nmap -sU: %v", err)
	}
	got := parseNmapPorts(t, out)
	for _, p := range ports {
		w := want[p]
		if w == "open|filtered" {
			w = exposure.Filtered // a silent destination: udpSeen accepts either
		}
		if w != "conditional" && !udpSeen(w, got[p]) {
			t.Errorf("udp port %d: nmap says %q, exposure says %q", p, got[p], want[p])
		}
	}
	icmp := expectedStates(t, lab, rep, "icmp")[0]
	ping, err := lab.Run(lab.ClientNS, "", "nmap", v.family(), "-sn", "-PE", "--disable-arp-ping", "-n", "-oX", "-", v.addr)
	if err != nil {
		t.Fatalf("nmap -sn: %v", err)
	}
	if up := strings.Contains(ping, `<status state="up"`); up != (icmp == exposure.Open) {
		t.Errorf("icmp echo: nmap says up=%t, exposure says %q", up, icmp)
	}
}

// fetch makes a real connection from the client namespace to addr and
// returns what the peer sends first, after sending req.
func fetch(t *testing.T, lab *netns.Lab, proto, addr, req string) string {
	t.Helper()
	c, err := lab.Dial(lab.ClientNS, proto, addr, 3*time.Second)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("%s %s: %v", proto, addr, err)
	}
	b, err := io.ReadAll(c)
	if err != nil && len(b) == 0 {
		t.Fatalf("%s %s: read: %v", proto, addr, err)
	}
	return string(b)
}

// dialFails checks that a real connection from the client to addr fails.
func dialFails(t *testing.T, lab *netns.Lab, addr string) {
	t.Helper()
	if c, err := lab.Dial(lab.ClientNS, "tcp", addr, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("tcp %s: a connection from the client succeeded, the audit says it cannot", addr)
	}
}

// dialWorks checks that a real connection from the client to addr
// completes its handshake.
func dialWorks(t *testing.T, lab *netns.Lab, addr string) {
	t.Helper()
	c, err := lab.Dial(lab.ClientNS, "tcp", addr, 2*time.Second)
	if err != nil {
		t.Errorf("tcp %s: %v, the audit says it is open", addr, err)
		return
	}
	c.Close()
}

// nodeListeners runs the built `exposure snapshot` live in the node
// namespace and returns the listeners it collected (sockets joined to
// their processes), for checking who holds a host port the audit reports
// as forwarded.
func nodeListeners(t *testing.T, lab *netns.Lab) []exposure.Listener {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.bundle")
	if _, err := lab.Run(lab.NodeNS, "", exposureBinary(t), "snapshot", "-o", path); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := collect.ReadBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	var socks []collect.Socket
	for _, f := range b.ProcNet {
		s, err := collect.ParseProcNet([]byte(f.Data), f.Name)
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, s...)
	}
	return collect.Listeners(socks, b.Processes, b.HostNetNS)
}

// holders returns the names of the processes holding proto/port on addr
// (or a wildcard) in the node namespace, sorted, each once.
func holders(ls []exposure.Listener, proto, addr string, port int) []string {
	var out []string
	for _, l := range ls {
		if l.Proto == proto && l.Port == port && (l.Addr == addr || l.Wildcard) {
			out = append(out, l.Process)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// synAnswer sends one SYN from the client on c0 to dst:port as a raw
// frame to the node's MAC (any destination address, 127.0.0.1 included,
// which no socket of the client would send) and returns the TCP flags of
// the answer that comes back from dst:port on c0 within a second, or
// false when none does.
func synAnswer(t *testing.T, lab *netns.Lab, dst string, port int) (byte, bool) {
	t.Helper()
	k, _ := lab.Link("n0")
	var fd int
	err := lab.Do(lab.ClientNS, func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP))); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: k.PeerIdx})
	})
	if err != nil {
		t.Fatalf("capture on c0: %v", err)
	}
	defer unix.Close(fd)
	src, to := netip.MustParseAddr(labClient), netip.MustParseAddr(dst)
	const sport = 40001
	if err := lab.Inject(netns.Probe{Src: src, Dst: to, Proto: netns.ProtoTCP, SPort: sport, DPort: uint16(port),
		TCPFlags: netns.SYN, Via: "c0"}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			continue
		}
		if flags, ok := tcpReply(buf[:n], to, src, port, sport); ok {
			return flags, true
		}
	}
	return 0, false
}

// tcpReply reads the flags of an IPv4 TCP segment from from:fport to
// to:tport.
func tcpReply(b []byte, from, to netip.Addr, fport, tport int) (byte, bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != unix.IPPROTO_TCP {
		return 0, false
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+14 || netip.AddrFrom4([4]byte(b[12:16])) != from || netip.AddrFrom4([4]byte(b[16:20])) != to {
		return 0, false
	}
	tcp := b[ihl:]
	if int(binary.BigEndian.Uint16(tcp[0:2])) != fport || int(binary.BigEndian.Uint16(tcp[2:4])) != tport {
		return 0, false
	}
	return tcp[13], true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
