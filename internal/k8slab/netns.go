package k8slab

import "github.com/exposure-audit/exposure/internal/netns"

// inNS runs fn on a fresh locked OS thread that has entered network
// namespace ns (netns.InNetns); sockets fn opens stay in ns.
func inNS(ns string, fn func() error) error { return netns.InNetns(nsPath(ns), fn) }
