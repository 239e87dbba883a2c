package kube

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NodeFor picks the Node this host is: the one whose status.addresses
// (InternalIP, ExternalIP) include one of the local addresses, as kubelet
// reports them. It is the default of --node. An error says when none or
// several match (name the node with --node).
func NodeFor(inv *Inventory, local []netip.Addr) (string, error) {
	if inv == nil || len(inv.Nodes) == 0 {
		return "", fmt.Errorf("find node: no Node objects (name the node with --node)")
	}
	var names []string
	for i := range inv.Nodes {
		if nodeHasAddr(&inv.Nodes[i], local) {
			names = append(names, inv.Nodes[i].Name)
		}
	}
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		return "", fmt.Errorf("find node: no Node among %d has a local address (%s); name it with --node", len(inv.Nodes), addrList(local))
	}
	slices.Sort(names)
	return "", fmt.Errorf("find node: Nodes %s all have a local address; name one with --node", strings.Join(names, ", "))
}

// nodeHasAddr reports whether one of n's IP addresses is in local.
func nodeHasAddr(n *corev1.Node, local []netip.Addr) bool {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err == nil && slices.Contains(local, ip.Unmap()) {
			return true
		}
	}
	return false
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
