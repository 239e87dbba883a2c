package exposure

import (
	"net/netip"
)

// listenerIndex finds the socket that takes a packet.
type listenerIndex map[string]map[int][]Listener

func newListenerIndex(ls []Listener) listenerIndex {
	ix := listenerIndex{}
	for _, l := range ls {
		if ix[l.Proto] == nil {
			ix[l.Proto] = map[int][]Listener{}
		}
		ix[l.Proto][l.Port] = append(ix[l.Proto][l.Port], l)
	}
	return ix
}

// lookup returns the socket the kernel delivers to: one bound to dst
// itself first, else a wildcard of dst's family, else an IPv6 wildcard
// for IPv4 (a :: socket without IPV6_V6ONLY, Linux's default
// net.ipv6.bindv6only=0, takes IPv4 too: inet6 sockets in
// __inet_lookup_listener).
func (ix listenerIndex) lookup(proto string, dst netip.Addr, port int) *Listener {
	ls := ix[proto][port]
	rank := func(l Listener) int {
		a, err := netip.ParseAddr(l.Addr)
		switch {
		case err != nil:
			return 0
		case a.Unmap() == dst:
			return 3
		case l.Wildcard && a.Is4() == dst.Is4():
			return 2
		case l.Wildcard && a.Is6() && dst.Is4():
			return 1
		}
		return 0
	}
	best, bestRank := -1, 0
	for i, l := range ls {
		if r := rank(l); r > bestRank {
			best, bestRank = i, r
		}
	}
	if best < 0 {
		return nil
	}
	l := ls[best]
	return &l
}
