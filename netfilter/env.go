package netfilter

import "net/netip"

// Env is what the simulator knows about the node besides its rules: its
// addresses and interfaces, ipset contents, and assumptions the user
// stated for matches whose result depends on state the tool cannot see.
// An Env is read-only during evaluation.
type Env struct {
	// Local addresses of the node. 127.0.0.0/8 and ::1 are always local.
	Local map[netip.Addr]bool
	// Ifaces describes interfaces (for REDIRECT, MASQUERADE, addrtype
	// --limit-iface, subnet broadcasts).
	Ifaces []Iface
	// IPSets holds ipset contents by name, when known.
	IPSets map[string]*Set
	// Assume maps an assumption key (see AssumptionKey) to the result the
	// user asserts for every such match.
	Assume map[string]bool
	// NoForwarding is set when the node does not forward (ip_forward=0);
	// the zero Env forwards, as Kubernetes nodes do.
	NoForwarding bool
	// Routes is the main routing table, when known: it picks the output
	// interface of forwarded and locally generated packets.
	Routes []Route
	// RoutesComplete says Routes is the whole table (collected live or
	// from a snapshot): a destination no route covers is then dropped,
	// where with a partial table (connected routes only) it is unknown.
	RoutesComplete bool
	// RouteLocalnet holds net.ipv4.conf.<name>.route_localnet by interface
	// name, "all" for net.ipv4.conf.all, "*" for every interface not
	// named. A name absent from the map (or a nil map) is unknown, which
	// is not 0. ip_route_input_slow drops a
	// packet from a non-loopback interface whose destination, or else
	// source, is in 127.0.0.0/8 unless the device's or all's value is 1
	// (IN_DEV_NET_ROUTE_LOCALNET); kube-proxy in iptables mode sets it.
	RouteLocalnet map[string]bool
	// AcceptLocal holds net.ipv4.conf.<name>.accept_local by interface
	// name, with RouteLocalnet's keys ("all", "*", names; absent is
	// unknown). fib_validate_source, called by ip_route_input_slow for
	// every IPv4 packet from a non-loopback interface once the
	// destination's route is known, refuses a source that is an address
	// of the node (a martian source) unless the device's or all's value is
	// 1 (IN_DEV_ACCEPT_LOCAL).
	AcceptLocal map[string]bool
	// RPFilter holds net.ipv4.conf.<name>.rp_filter by interface name,
	// with RouteLocalnet's keys ("all", "*", names; absent is unknown):
	// 0 off, 1 strict, 2 loose. The kernel uses the maximum of the
	// device's and all's (IN_DEV_RPFILTER): fib_validate_source then
	// refuses a source from the wire whose route back (the main table's
	// lookup of the source) fails, is not unicast, or, under strict
	// filtering, leaves by another device than the one it came in by.
	RPFilter map[string]int
}

// RPFilterOf reports IN_DEV_RPFILTER for interface dev: the maximum of
// dev's (else "*"'s) and all's rp_filter. It is known when both are, or
// when one known value is 2 or more (loose either way: only 1 is strict).
func (e *Env) RPFilterOf(dev string) (mode int, known bool) {
	if e == nil {
		return 0, false
	}
	d, dk := e.RPFilter[dev]
	if !dk {
		d, dk = e.RPFilter["*"]
	}
	a, ak := e.RPFilter["all"]
	switch {
	case dk && ak:
		return max(d, a), true
	case dk && d >= 2:
		return d, true
	case ak && a >= 2:
		return a, true
	}
	return 0, false
}

// LocalnetRouted reports IN_DEV_NET_ROUTE_LOCALNET for interface dev: on
// when dev's or all's route_localnet is 1, off when both are known to be
// 0, unknown (known false) otherwise.
func (e *Env) LocalnetRouted(dev string) (on, known bool) {
	if e == nil {
		return false, false
	}
	return orConf(e.RouteLocalnet, dev)
}

// LocalAccepted reports IN_DEV_ACCEPT_LOCAL for interface dev: on when
// dev's or all's accept_local is 1, off when both are known to be 0,
// unknown (known false) otherwise.
func (e *Env) LocalAccepted(dev string) (on, known bool) {
	if e == nil {
		return false, false
	}
	return orConf(e.AcceptLocal, dev)
}

// orConf is the kernel's IN_DEV_ORCONF over a per-interface sysctl map:
// dev's value (else "*"'s) or all's.
func orConf(m map[string]bool, dev string) (on, known bool) {
	d, dk := m[dev]
	if !dk {
		d, dk = m["*"]
	}
	a, ak := m["all"]
	if d || a {
		return true, true
	}
	return false, dk && ak
}

// Route is one route of the main table.
type Route struct {
	Prefix netip.Prefix
	Iface  string
	// Unreachable marks unreachable, blackhole and prohibit routes: the
	// kernel drops what they match.
	Unreachable bool
}

// Lookup returns the longest-prefix route for dst, if routes are known
// and one matches.
func (e *Env) Lookup(dst netip.Addr) (Route, bool) {
	best, found := Route{}, false
	if e == nil {
		return best, false
	}
	for _, r := range e.Routes {
		if r.Prefix.Contains(dst) && (!found || r.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// RoutesVia reports whether the longest-prefix route for a (any of its
// next hops: routes of the same prefix count as one multipath route)
// leaves by interface dev.
func (e *Env) RoutesVia(a netip.Addr, dev string) bool {
	best, ok := e.Lookup(a)
	if !ok {
		return false
	}
	for _, r := range e.Routes {
		if r.Prefix == best.Prefix && !r.Unreachable && r.Iface == dev {
			return true
		}
	}
	return false
}

// Iface is one network interface of the node.
type Iface struct {
	Name  string
	Addrs []netip.Prefix
	MAC   string
}

// NewEnv returns an Env with the given local addresses.
func NewEnv(local ...netip.Addr) *Env {
	e := &Env{Local: map[netip.Addr]bool{}, IPSets: map[string]*Set{}, Assume: map[string]bool{}}
	for _, a := range local {
		e.Local[a.Unmap()] = true
	}
	return e
}

// IsLocal reports whether a is an address of the node (a RTN_LOCAL route
// in the kernel's local table: its addresses and all of 127.0.0.0/8).
func (e *Env) IsLocal(a netip.Addr) bool {
	if a.Is4() && a.As4()[0] == 127 {
		return true
	}
	if a == netip.IPv6Loopback() {
		return true
	}
	return e != nil && e.Local[a]
}

// AddrType returns the routing type of an address as xt_addrtype and nft's
// `fib daddr type` compute it from the local routing table
// (inet_dev_addr_type): 0.0.0.0 and 255.255.255.255 are BROADCAST,
// 224.0.0.0/4 and ff00::/8 MULTICAST, local addresses LOCAL, subnet
// broadcast addresses BROADCAST, everything else UNICAST.
func (e *Env) AddrType(a netip.Addr) AddrType {
	switch {
	case a.Is4() && (a == netip.IPv4Unspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
		return AddrTypeBroadcast
	case a.IsMulticast():
		return AddrTypeMulticast
	case e.IsLocal(a):
		return AddrTypeLocal
	case a.Is4() && e.isSubnetBroadcast(a):
		return AddrTypeBroadcast
	}
	return AddrTypeUnicast
}

func (e *Env) isSubnetBroadcast(a netip.Addr) bool {
	if e == nil {
		return false
	}
	for _, ifc := range e.Ifaces {
		for _, p := range ifc.Addrs {
			if p.Addr().Is4() && p.Bits() < 31 && LastAddr(p) == a {
				return true
			}
		}
	}
	return false
}

// Iface returns the interface with the given name.
func (e *Env) Iface(name string) (Iface, bool) {
	if e != nil {
		for _, i := range e.Ifaces {
			if i.Name == name {
				return i, true
			}
		}
	}
	return Iface{}, false
}

// PrimaryAddr returns the first address of family f on interface name, as
// REDIRECT and MASQUERADE pick it (the interface's primary address).
func (e *Env) PrimaryAddr(name string, f IPFamily) (netip.Addr, bool) {
	ifc, ok := e.Iface(name)
	if !ok {
		return netip.Addr{}, false
	}
	for _, p := range ifc.Addrs {
		if p.Addr().Is4() == (f == IPv4) {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// Assumed returns the user's assumption for key, if any.
func (e *Env) Assumed(key string) (bool, bool) {
	if e == nil {
		return false, false
	}
	v, ok := e.Assume[key]
	return v, ok
}

// addrOn reports whether a is an address of interface dev (loopback
// addresses belong to lo). Without interface data, every local address is
// taken to be on every interface.
func (e *Env) addrOn(dev string, a netip.Addr) bool {
	if a.IsLoopback() {
		return dev == "lo"
	}
	if e == nil || len(e.Ifaces) == 0 {
		return true
	}
	ifc, ok := e.Iface(dev)
	if !ok {
		return false
	}
	for _, p := range ifc.Addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}
