package netns

import "net/netip"

// Route is the node's routing decision for a destination, as its routing table
// (built by New) makes it.
type Route struct {
	Dev         string // output device: "lo" for local delivery, else n0, n1 or n2
	Local       bool   // delivered to the node itself (INPUT), not forwarded
	Unreachable bool   // under the "unreachable" routes (the probe-source ranges)
}

// RouteOf returns the node's route to dst: node addresses, their link broadcasts
// and 127.0.0.0/8 are local; on-link prefixes go out their link; the probe-source
// ranges are unreachable; anything else follows the default route out n1.
// Multicast destinations are not covered (ok is false).
func RouteOf(dst netip.Addr) (r Route, ok bool) {
	if dst.IsMulticast() {
		return Route{}, false
	}
	if dst.IsLoopback() || isNodeAddr(dst) || isLinkBroadcast(dst) {
		return Route{Dev: "lo", Local: true}, true
	}
	if ProbeSources4.Contains(dst) || ProbeSources6.Contains(dst) {
		return Route{Unreachable: true}, true
	}
	for _, l := range Links {
		if l.Addr4.Masked().Contains(dst) || l.Addr6.Masked().Contains(dst) {
			return Route{Dev: l.Name}, true
		}
	}
	return Route{Dev: "n1"}, true
}

// InIface returns the node device a probe arrives on in PREROUTING: the node end
// of its Via link, or "" for a FromNode probe (which starts in OUTPUT and, when
// its destination is local, comes back in on "lo").
func (p Probe) InIface() string {
	if p.FromNode {
		return ""
	}
	if l, ok := LinkByName(p.Via); ok {
		return l.Name
	}
	return ""
}

func isNodeAddr(a netip.Addr) bool {
	for _, fam := range []int{4, 6} {
		for _, n := range NodeAddrs(fam) {
			if n == a {
				return true
			}
		}
	}
	return false
}

// isLinkBroadcast reports whether a is the broadcast address of a node link.
func isLinkBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	for _, l := range Links {
		p := l.Addr4.Masked()
		b := p.Addr().As4()
		for i := p.Bits(); i < 32; i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		if netip.AddrFrom4(b) == a {
			return true
		}
	}
	return a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
