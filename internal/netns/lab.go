package netns

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Lab is one instance of the topology: three private namespaces joined by veth
// pairs (see Links). Its methods may be called from several goroutines, but the
// node's firewall and conntrack table are one shared state: give each parallel
// test its own Lab.
type Lab struct {
	tb     testing.TB
	Prefix string // common prefix of the namespace names, "expo-<pid>-<rand>-"
	// Namespace names, as listed by "ip netns".
	ClientNS, NodeNS, ServerNS string
	// Links is the topology with the runtime ifindexes filled in.
	Links []Link

	quietServer bool
	mu          sync.Mutex
	closers     []io.Closer
}

// Option changes how New builds the lab.
type Option func(*Lab)

// WithServerReplies lets the server namespace answer packets. By default the server
// drops everything at ingress (an nft prerouting chain with policy drop), so that a
// forwarded or SNATed probe never brings a reply back through the node.
func WithServerReplies() Option { return func(l *Lab) { l.quietServer = false } }

// requiredTools are the executables the lab calls.
var requiredTools = []string{
	"ip", "nsenter", "nft", "conntrack",
	"iptables-legacy-restore", "iptables-legacy-save", "iptables-legacy",
	"ip6tables-legacy-restore", "ip6tables-legacy-save", "ip6tables-legacy",
	"iptables-nft-restore", "iptables-nft-save", "iptables-nft",
	"ip6tables-nft-restore", "ip6tables-nft-save", "ip6tables-nft",
}

// Available reports why a lab cannot be built here, or nil when it can.
func Available() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, t := range requiredTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// New builds a lab, or skips tb when not root or a tool is missing. The namespaces
// are deleted by tb.Cleanup; New fails tb when the topology cannot be built.
func New(tb testing.TB, opts ...Option) *Lab {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skip("needs root and ip/iptables/nft: " + err.Error())
	}
	l := &Lab{tb: tb, quietServer: true}
	for _, o := range opts {
		o(l)
	}
	l.Prefix = fmt.Sprintf("expo-%d-%08x-", os.Getpid(), rand.Uint32())
	l.ClientNS, l.NodeNS, l.ServerNS = l.Prefix+string(Client), l.Prefix+string(Node), l.Prefix+string(Server)
	l.Links = append([]Link(nil), Links...)
	tb.Cleanup(l.close)
	if err := l.build(); err != nil {
		tb.Fatalf("build lab: %v", err)
	}
	return l
}

// NS returns the namespace name of a role.
func (l *Lab) NS(r Role) string {
	switch r {
	case Client:
		return l.ClientNS
	case Server:
		return l.ServerNS
	}
	return l.NodeNS
}

// Link returns the lab's link (with ifindexes) whose node or peer name is name.
func (l *Lab) Link(name string) (Link, bool) {
	for _, k := range l.Links {
		if k.Name == name || k.Peer == name {
			return k, true
		}
	}
	return Link{}, false
}

// track registers c to be closed before the namespaces are deleted.
func (l *Lab) track(c io.Closer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, c)
}

// close closes tracked sockets and deletes this lab's namespaces, and only those.
func (l *Lab) close() {
	l.mu.Lock()
	cs := l.closers
	l.closers = nil
	l.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
	var errs []error
	for _, ns := range []string{l.ClientNS, l.NodeNS, l.ServerNS} {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("delete netns %s: %w: %s", ns, err, out))
		}
	}
	if err := errors.Join(errs...); err != nil {
		l.tb.Errorf("clean up lab: %v", err)
	}
}
