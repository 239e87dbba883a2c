package netns

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// quietSysctls are set in every namespace before any link exists, so that new
// interfaces inherit them ("default") and the namespace-wide switches agree ("all"):
// no duplicate address detection, router solicitation, router advertisement,
// link-local address, or reverse-path filtering; MLD retransmits as short as allowed.
var quietSysctls = []string{
	"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
	"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
	"net.ipv6.conf.all.dad_transmits=0", "net.ipv6.conf.default.dad_transmits=0",
	"net.ipv6.conf.all.router_solicitations=0", "net.ipv6.conf.default.router_solicitations=0",
	"net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0",
	"net.ipv6.conf.all.addr_gen_mode=1", "net.ipv6.conf.default.addr_gen_mode=1",
	"net.ipv6.conf.all.mldv1_unsolicited_report_interval=1",
	"net.ipv6.conf.default.mldv1_unsolicited_report_interval=1",
	"net.ipv6.conf.all.mldv2_unsolicited_report_interval=1",
	"net.ipv6.conf.default.mldv2_unsolicited_report_interval=1",
}

// nodeSysctls turn the node into a router (IPv4 and IPv6 forwarding).
var nodeSysctls = []string{
	"net.ipv4.ip_forward=1",
	"net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.default.forwarding=1",
}

// quietServerNft drops everything the server receives, before conntrack.
const quietServerNft = `table inet expo_quiet {
	chain pre { type filter hook prerouting priority -400; policy drop; }
}
`

// quietClientNft drops what the client receives from the probe-source ranges (a
// probe forwarded to a client address), so the client never answers a probe; the
// client's own connections (Dial) are untouched.
const quietClientNft = `table inet expo_quiet {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		ip saddr 198.18.0.0/15 drop
		ip6 saddr 2001:db8:ff00::/40 drop
	}
}
`

// build creates the namespaces, links, addresses, neighbours and routes.
func (l *Lab) build() error {
	for _, ns := range []string{l.ClientNS, l.NodeNS, l.ServerNS} {
		if err := hostRun("", "ip", "netns", "add", ns); err != nil {
			return err
		}
		sysctls := quietSysctls
		if ns == l.NodeNS {
			sysctls = append(append([]string(nil), quietSysctls...), nodeSysctls...)
		}
		if _, err := l.Run(ns, "", append([]string{"sysctl", "-q", "-w"}, sysctls...)...); err != nil {
			return err
		}
	}
	for _, k := range l.Links {
		if err := hostRun("", "ip", "link", "add", k.Name, "address", k.MAC.String(), "netns", l.NodeNS,
			"type", "veth", "peer", "name", k.Peer, "address", k.PeerMAC.String(), "netns", l.NS(k.PeerRole)); err != nil {
			return err
		}
	}
	for _, r := range []Role{Node, Client, Server} {
		if err := hostRun(l.batch(r), "ip", "-n", l.NS(r), "-batch", "-"); err != nil {
			return fmt.Errorf("configure %s: %w", r, err)
		}
	}
	if l.quietServer {
		if err := l.LoadNftIn(l.ServerNS, quietServerNft); err != nil {
			return err
		}
	}
	if err := l.LoadNftIn(l.ClientNS, quietClientNft); err != nil {
		return err
	}
	if err := l.readIndexes(); err != nil {
		return err
	}
	l.settle()
	return nil
}

// settleTime covers the node's MLD reports for the all-routers group it
// joins on every link when IPv6 forwarding is on: an unsolicited report
// and its retransmit (mldv*_unsolicited_report_interval = 1 s), looped back
// through OUTPUT, POSTROUTING and PREROUTING. Probes sent before they are
// over could see their counters move.
const settleTime = 2500 * time.Millisecond

// settle waits until the links have been up for settleTime.
func (l *Lab) settle() {
	time.Sleep(settleTime)
}

// batch returns the "ip -batch" script configuring one namespace.
func (l *Lab) batch(r Role) string {
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	w("link set lo up")
	for _, k := range l.Links {
		dev := k.Name
		a4, a6, n4, n6, nmac := k.Addr4, k.Addr6, k.Peer4, k.Peer6, k.PeerMAC
		switch {
		case r == Node:
		case r == k.PeerRole:
			dev = k.Peer
			a4, a6, n4, n6, nmac = k.Peer4, k.Peer6, k.Addr4, k.Addr6, k.MAC
		default:
			continue
		}
		w("link set %s multicast off", dev)
		w("address add %s dev %s", a4, dev)
		w("address add %s dev %s nodad", a6, dev)
		w("link set %s up", dev)
		w("neighbour replace %s lladdr %s dev %s nud permanent", n4.Addr(), nmac, dev)
		w("neighbour replace %s lladdr %s dev %s nud permanent", n6.Addr(), nmac, dev)
	}
	switch r {
	case Node:
		w("route add default via %s", ServerGateway4)
		w("route add default via %s", ServerGateway6)
		w("route add unreachable %s", ProbeSources4)
		w("route add unreachable %s", ProbeSources6)
	case Client:
		c0, _ := LinkByName("c0")
		w("route add default via %s dev c0", c0.Addr4.Addr())
		w("route add default via %s dev c0", c0.Addr6.Addr())
	}
	return b.String()
}

// readIndexes fills in the ifindexes of every link end.
func (l *Lab) readIndexes() error {
	for i := range l.Links {
		k := &l.Links[i]
		var err error
		if k.Index, err = l.ifindex(l.NodeNS, k.Name); err != nil {
			return err
		}
		if k.PeerIdx, err = l.ifindex(l.NS(k.PeerRole), k.Peer); err != nil {
			return err
		}
	}
	return nil
}

// ifindex reads the ifindex of dev in ns from "ip -j link show".
func (l *Lab) ifindex(ns, dev string) (int, error) {
	out, err := exec.Command("ip", "-n", ns, "-j", "link", "show", "dev", dev).Output()
	if err != nil {
		return 0, fmt.Errorf("show link %s in %s: %w", dev, ns, err)
	}
	var links []struct {
		Index int `json:"ifindex"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return 0, fmt.Errorf("parse link %s in %s: %v: %s", dev, ns, err, out)
	}
	return links[0].Index, nil
}

// hostRun runs argv in the current namespace with stdin, folding stderr into the error.
func hostRun(stdin string, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("run %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
