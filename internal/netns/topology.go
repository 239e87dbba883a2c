package netns

import (
	"net"
	"net/netip"
)

// Role names one of the lab's three namespaces.
type Role string

// The lab's namespaces: the client sends probes from outside, the node holds the
// ruleset under test, the server stands behind the node as the forwarding target.
const (
	Client Role = "client"
	Node   Role = "node"
	Server Role = "server"
)

// Link is one veth pair of the lab: Name lives in the node namespace, Peer in PeerRole.
type Link struct {
	Name     string           // interface name in the node namespace (n0, n1, n2)
	MAC      net.HardwareAddr // MAC of Name
	Addr4    netip.Prefix     // node address with its on-link prefix
	Addr6    netip.Prefix     // node address with its on-link prefix
	Peer     string           // interface name in the peer namespace (c0, s0, c2)
	PeerRole Role             // namespace of Peer
	PeerMAC  net.HardwareAddr // MAC of Peer
	Peer4    netip.Prefix     // peer address with its on-link prefix
	Peer6    netip.Prefix     // peer address with its on-link prefix
	Index    int              // ifindex of Name in the node namespace, read after setup
	PeerIdx  int              // ifindex of Peer in the peer namespace, read after setup
}

// Links is the fixed topology every Lab builds. MACs are fixed (locally administered)
// so that permanent neighbour entries can be written before the links come up.
var Links = []Link{
	{
		Name: "n0", MAC: mac(0x10), Addr4: pfx("198.51.100.1/24"), Addr6: pfx("2001:db8:1::1/64"),
		Peer: "c0", PeerRole: Client, PeerMAC: mac(0x20), Peer4: pfx("198.51.100.2/24"), Peer6: pfx("2001:db8:1::2/64"),
	},
	{
		Name: "n1", MAC: mac(0x11), Addr4: pfx("203.0.113.1/24"), Addr6: pfx("2001:db8:2::1/64"),
		Peer: "s0", PeerRole: Server, PeerMAC: mac(0x21), Peer4: pfx("203.0.113.2/24"), Peer6: pfx("2001:db8:2::2/64"),
	},
	{
		Name: "n2", MAC: mac(0x12), Addr4: pfx("192.0.2.129/25"), Addr6: pfx("2001:db8:3::1/64"),
		Peer: "c2", PeerRole: Client, PeerMAC: mac(0x22), Peer4: pfx("192.0.2.130/25"), Peer6: pfx("2001:db8:3::2/64"),
	},
}

// ProbeSources4 and ProbeSources6 are the probe-source ranges (RFC 2544 benchmarking
// space and a slice of the documentation prefix). The node routes them to
// "unreachable", so no reply to a probe (RST, SYN-ACK, ICMP error, REJECT) can ever be
// routed and none enters OUTPUT: the counters reflect the probe alone.
var (
	ProbeSources4 = pfx("198.18.0.0/15")
	ProbeSources6 = pfx("2001:db8:ff00::/40")
)

// ServerGateway4 and ServerGateway6 are the node's default-route gateways (the server side).
var (
	ServerGateway4 = netip.MustParseAddr("203.0.113.2")
	ServerGateway6 = netip.MustParseAddr("2001:db8:2::2")
)

// LinkByName returns the link whose node-side or peer-side name is name.
func LinkByName(name string) (Link, bool) {
	for _, l := range Links {
		if l.Name == name || l.Peer == name {
			return l, true
		}
	}
	return Link{}, false
}

// NodeAddrs returns every address local to the node for the family (4 or 6),
// loopback included: the set the kernel's routing treats as local, as
// addrtype LOCAL sees it (127.0.0.0/8 is local as a whole; 127.0.0.1 stands for it).
func NodeAddrs(family int) []netip.Addr {
	var out []netip.Addr
	for _, l := range Links {
		if family == 4 {
			out = append(out, l.Addr4.Addr())
		} else {
			out = append(out, l.Addr6.Addr())
		}
	}
	if family == 4 {
		return append(out, netip.MustParseAddr("127.0.0.1"))
	}
	return append(out, netip.IPv6Loopback())
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x00, last} }
