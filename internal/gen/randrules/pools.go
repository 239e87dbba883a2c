package randrules

import (
	"math/rand/v2"
	"net/netip"

	"github.com/exposure-audit/exposure/internal/netns"
)

// pools holds the addresses of one family the generator draws from. They follow
// the lab's topology: probe sources come from netns.ProbeSources4/6 (unroutable on
// the node, so nothing answers), remote destinations are routed to the server
// side and never on a link without a neighbour entry (an IPv6 neighbour
// solicitation would cross OUTPUT).
type pools struct {
	probeSrc   netip.Prefix   // where every probe source comes from
	srcNets    []netip.Prefix // -s values besides random subnets of probeSrc
	local      []netip.Addr   // node addresses (loopback last)
	loopback   netip.Addr
	remote     []netip.Addr   // fixed forwarded destinations
	remoteNets []netip.Prefix // forwarded destination ranges (random addresses)
	dstNets    []netip.Prefix // -d values
	peers      map[string]netip.Addr
	bcast      map[string]netip.Addr // link broadcast addresses (IPv4)
	mcast      netip.Addr
	snat       netip.Prefix // SNAT sources: inside probeSrc so replies stay unroutable
}

func p(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func a(s string) netip.Addr   { return netip.MustParseAddr(s) }

// poolsFor returns the pools of family 4 or 6.
func poolsFor(family int) *pools {
	peers := map[string]netip.Addr{}
	for _, l := range netns.Links {
		if family == 4 {
			peers[l.Name] = l.Peer4.Addr()
		} else {
			peers[l.Name] = l.Peer6.Addr()
		}
	}
	if family == 6 {
		return &pools{
			probeSrc: netns.ProbeSources6,
			srcNets:  []netip.Prefix{p("2001:db8::/32"), p("::/0"), p("2001:db8:ff00::/40"), p("fd00::/8"), p("2001:db8:1::/64")},
			local:    netns.NodeAddrs(6), loopback: netip.IPv6Loopback(),
			remote:     []netip.Addr{netns.ServerGateway6, a("2001:db8:aa00::5"), a("2001:db8:ab00::80")},
			remoteNets: []netip.Prefix{p("2001:db8:aa00::/40")},
			dstNets: []netip.Prefix{p("2001:db8:1::1/128"), p("2001:db8:1::/64"), p("2001:db8:3::/64"), p("2001:db8:2::1/128"),
				p("::1/128"), p("2001:db8:aa00::/40"), p("2001:db8:aa00::/48"), p("2001:db8:2::2/128"), p("2001:db8::/32"), p("ff00::/8")},
			peers: peers, mcast: a("ff02::1"), snat: p("2001:db8:ffee::/48"),
		}
	}
	return &pools{
		probeSrc: netns.ProbeSources4,
		srcNets:  []netip.Prefix{p("198.16.0.0/12"), p("0.0.0.0/0"), p("198.0.0.0/8"), p("10.0.0.0/8"), p("172.16.0.0/12")},
		local:    netns.NodeAddrs(4), loopback: a("127.0.0.1"),
		remote:     []netip.Addr{netns.ServerGateway4, a("10.1.2.3"), a("100.64.7.9")},
		remoteNets: []netip.Prefix{p("10.0.0.0/8"), p("100.64.0.0/10")},
		dstNets: []netip.Prefix{p("198.51.100.1/32"), p("198.51.100.0/24"), p("192.0.2.128/25"), p("203.0.113.1/32"),
			p("203.0.113.0/24"), p("127.0.0.0/8"), p("10.0.0.0/8"), p("10.1.0.0/16"), p("100.64.0.0/10"),
			p("203.0.113.2/32"), p("0.0.0.0/0"), p("224.0.0.0/4")},
		peers: peers, mcast: a("224.0.0.1"), snat: p("198.19.250.0/24"),
		bcast: map[string]netip.Addr{"n0": a("198.51.100.255"), "n1": a("203.0.113.255"), "n2": a("192.0.2.255")},
	}
}

// randIn returns a random address inside pf.
func randIn(r *rand.Rand, pf netip.Prefix) netip.Addr {
	b := pf.Masked().Addr().AsSlice()
	for i := pf.Bits(); i < len(b)*8; i++ {
		if r.IntN(2) == 1 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// subnet returns a random subnet of pf with a prefix length in [pf.Bits(), maxBits].
func subnet(r *rand.Rand, pf netip.Prefix, maxBits int) netip.Prefix {
	bits := pf.Bits() + r.IntN(maxBits-pf.Bits()+1)
	return netip.PrefixFrom(randIn(r, pf), bits).Masked()
}

// overlaps reports whether two prefixes share an address.
func overlaps(x, y netip.Prefix) bool { return x.Overlaps(y) }

// isLocal reports whether addr is a node address (127.0.0.0/8 included).
func (pl *pools) isLocal(addr netip.Addr) bool {
	if addr.Is4() && p("127.0.0.0/8").Contains(addr) {
		return true
	}
	for _, l := range pl.local {
		if l == addr {
			return true
		}
	}
	return false
}
