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
