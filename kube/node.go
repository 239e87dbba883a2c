package kube

import "net/netip"

// NodeFor picks the Node this host is: the one whose status.addresses
// (InternalIP, ExternalIP) include one of the local addresses. It is the
// default of --node. An error says when none or several match (name them
// with --node).
func NodeFor(inv *Inventory, local []netip.Addr) (string, error) {
	return nodeFor(inv, local)
}
