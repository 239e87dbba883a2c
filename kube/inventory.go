package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Inventory is the set of cluster objects the join reads: what `kubectl
// get nodes,pods,services,endpointslices -A -o json` prints.
type Inventory struct {
	Nodes          []corev1.Node               `json:"nodes"`
	Pods           []corev1.Pod                `json:"pods"`
	Services       []corev1.Service            `json:"services"`
	EndpointSlices []discoveryv1.EndpointSlice `json:"endpointslices"`
	// Skipped counts the objects of other kinds Decode met, by kind.
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Add merges other into inv: objects are identified by kind, namespace and
// name, and other's copy replaces inv's in place (later wins); new objects
// are appended in other's order. Skipped counts add up.
func (inv *Inventory) Add(other *Inventory) {
	if other == nil {
		return
	}
	inv.Nodes = merge(inv.Nodes, other.Nodes, func(n *corev1.Node) string { return n.Name })
	inv.Pods = merge(inv.Pods, other.Pods, func(p *corev1.Pod) string { return p.Namespace + "/" + p.Name })
	inv.Services = merge(inv.Services, other.Services, func(s *corev1.Service) string { return s.Namespace + "/" + s.Name })
	inv.EndpointSlices = merge(inv.EndpointSlices, other.EndpointSlices, func(s *discoveryv1.EndpointSlice) string { return s.Namespace + "/" + s.Name })
	for k, n := range other.Skipped {
		if inv.Skipped == nil {
			inv.Skipped = map[string]int{}
		}
		inv.Skipped[k] += n
	}
}

// merge appends add to have, replacing the items of have (and earlier
// items of add) that share a key.
func merge[T any](have, add []T, key func(*T) string) []T {
	at := make(map[string]int, len(have)+len(add))
	for i := range have {
		at[key(&have[i])] = i
	}
	for i := range add {
		k := key(&add[i])
		if j, ok := at[k]; ok {
			have[j] = add[i]
			continue
		}
		at[k] = len(have)
		have = append(have, add[i])
	}
	return have
}
