package collect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/exposure"
)

// Socket is one row of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6}.
type Socket struct {
	Proto string
	Addr  netip.Addr
	Port  int
	// State is the kernel's socket state (0A TCP_LISTEN, 07 TCP_CLOSE for
	// an unconnected UDP socket).
	State  int
	Remote netip.Addr
	RPort  int
	Inode  uint64
}

// ParseProcNet reads one /proc/net table (net/ipv4/tcp_ipv4.c
// get_tcp4_sock format: "sl local_address rem_address st ... inode").
// Addresses are hex words in host byte order (little-endian here).
func ParseProcNet(data []byte, proto string) ([]Socket, error) {
	var out []Socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if n == 1 || len(f) < 10 {
			continue
		}
		s, err := procSocket(f, proto)
		if err != nil {
			return nil, fmt.Errorf("parse /proc/net/%s line %d: %w", proto, n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func procSocket(f []string, proto string) (Socket, error) {
	la, lp, err := hexEndpoint(f[1])
	if err != nil {
		return Socket{}, err
	}
	ra, rp, err := hexEndpoint(f[2])
	if err != nil {
		return Socket{}, err
	}
	st, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil {
		return Socket{}, err
	}
	ino, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return Socket{}, err
	}
	return Socket{Proto: strings.TrimSuffix(proto, "6"), Addr: la, Port: lp, State: int(st), Remote: ra, RPort: rp, Inode: ino}, nil
}

// hexEndpoint decodes "0100007F:0016" (IPv4) or 32 hex digits (IPv6),
// each 32-bit word in little-endian order.
func hexEndpoint(s string) (netip.Addr, int, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("endpoint %q has no port", s)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, fmt.Errorf("endpoint %q: bad address", s)
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	addr, _ := netip.AddrFromSlice(raw)
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("endpoint %q: bad port", s)
	}
	return addr.Unmap(), int(port), nil
}

// Listening reports whether a socket accepts new flows from anyone: a TCP
// listener, an unconnected UDP socket, or a raw socket (its "port" is the
// protocol number).
func (s Socket) Listening() bool {
	switch s.Proto {
	case "tcp":
		return s.State == 0x0A
	case "udp", "raw":
		return !s.Remote.IsValid() || s.Remote.IsUnspecified()
	}
	return false
}

// Process is what /proc says about one process that holds sockets.
type Process struct {
	PID     int      `json:"pid"`
	Comm    string   `json:"comm"`
	Cmdline []string `json:"cmdline"`
	Cgroup  string   `json:"cgroup"`
	// NetNS is the target of /proc/PID/ns/net ("net:[4026531840]").
	NetNS string `json:"netns,omitempty"`
	// Sockets are the inodes of its socket file descriptors.
	Sockets []uint64 `json:"sockets"`
}

// ReadProcesses reads every /proc/PID of root: comm, cmdline, cgroup,
// network namespace and socket inodes. Processes whose fd directory cannot
// be read (other users' when not root) are counted in the returned note.
func ReadProcesses(root fs.FS) ([]Process, []string) {
	ents, err := fs.ReadDir(root, ".")
	if err != nil {
		return nil, []string{fmt.Sprintf("processes: cannot list /proc: %v", err)}
	}
	var out []Process
	denied := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProcess(root, pid)
		if !ok {
			denied++
			continue
		}
		if len(p.Sockets) > 0 {
			out = append(out, p)
		}
	}
	var notes []string
	if denied > 0 {
		notes = append(notes, fmt.Sprintf("processes: the file descriptors of %d processes could not be read (run as root to attribute their sockets)", denied))
	}
	return out, notes
}

func readProcess(root fs.FS, pid int) (Process, bool) {
	dir := strconv.Itoa(pid)
	fds, err := fs.ReadDir(root, dir+"/fd")
	if err != nil {
		return Process{}, false
	}
	p := Process{PID: pid, Sockets: []uint64{}}
	for _, fd := range fds {
		target, err := fs.ReadLink(root, dir+"/fd/"+fd.Name())
		if ino, ok := socketInode(target); err == nil && ok {
			p.Sockets = append(p.Sockets, ino)
		}
	}
	comm, _ := fs.ReadFile(root, dir+"/comm")
	p.Comm = strings.TrimSpace(string(comm))
	cmd, _ := fs.ReadFile(root, dir+"/cmdline")
	p.Cmdline = strings.FieldsFunc(string(cmd), func(r rune) bool { return r == 0 })
	cg, _ := fs.ReadFile(root, dir+"/cgroup")
	p.Cgroup = strings.TrimSpace(string(cg))
	p.NetNS, _ = fs.ReadLink(root, dir+"/ns/net")
	return p, true
}

// socketInode reads "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n, err == nil
}

// Container is what a cgroup path says about the container of a process.
type Container struct {
	Runtime string
	ID      string
	PodUID  string
}

var (
	scopeRE = regexp.MustCompile(`(crio|docker|cri-containerd|libpod)-([0-9a-f]{12,64})\.scope`)
	cgfsRE  = regexp.MustCompile(`/(docker|libpod|crio|containerd)/([0-9a-f]{12,64})`)
	podRE   = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})`)
	kubeRE  = regexp.MustCompile(`/kubepods[^\n]*/pod[^/]+/([0-9a-f]{64})`)
)

// runtimeNames maps cgroup scope prefixes to container runtimes (systemd
// cgroup driver: crio-ID.scope, docker-ID.scope, cri-containerd-ID.scope,
// libpod-ID.scope; cgroupfs: /docker/ID, /kubepods/.../podUID/ID).
var runtimeNames = map[string]string{"crio": "crio", "docker": "docker", "cri-containerd": "containerd", "containerd": "containerd", "libpod": "podman"}

// ParseCgroup extracts the container runtime, id and pod UID from
// /proc/PID/cgroup.
func ParseCgroup(cg string) Container {
	var c Container
	if m := scopeRE.FindStringSubmatch(cg); m != nil {
		c.Runtime, c.ID = runtimeNames[m[1]], m[2]
	} else if m := cgfsRE.FindStringSubmatch(cg); m != nil {
		c.Runtime, c.ID = runtimeNames[m[1]], m[2]
	} else if m := kubeRE.FindStringSubmatch(cg); m != nil {
		c.ID = m[1]
	}
	if m := podRE.FindStringSubmatch(cg); m != nil && strings.Contains(cg, "kubepods") {
		c.PodUID = strings.ReplaceAll(m[1], "_", "-")
	}
	return c
}

// Listeners joins the listening sockets with the processes holding them.
// hostNS is the host's network namespace link (the reader's): a process in
// it shares the host network (a hostNetwork pod when in a container).
func Listeners(socks []Socket, procs []Process, hostNS string) []exposure.Listener {
	byInode := map[uint64]Process{}
	for _, p := range procs {
		for _, ino := range p.Sockets {
			if _, ok := byInode[ino]; !ok {
				byInode[ino] = p
			}
		}
	}
	var out []exposure.Listener
	for _, s := range socks {
		if !s.Listening() {
			continue
		}
		l := exposure.Listener{Proto: s.Proto, Addr: s.Addr.String(), Port: s.Port, Wildcard: s.Addr.IsUnspecified(), Inode: s.Inode, HostNetNS: true}
		if p, ok := byInode[s.Inode]; ok {
			c := ParseCgroup(p.Cgroup)
			l.PID, l.Process, l.Cmdline = p.PID, p.Comm, strings.Join(p.Cmdline, " ")
			l.Runtime, l.Container, l.PodUID = c.Runtime, c.ID, c.PodUID
			l.HostNetNS = hostNS == "" || p.NetNS == "" || p.NetNS == hostNS
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		return out[i].Port < out[j].Port
	})
	return out
}
