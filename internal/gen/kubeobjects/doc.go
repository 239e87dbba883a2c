// Package kubeobjects turns the Services of package kubeproxy's generators
// into the Kubernetes objects a cluster would hold for them (Services,
// EndpointSlices, the Pods behind the endpoints, Nodes), so that the
// generated kube-proxy dumps can be joined with matching objects in tests
// and benchmarks (package kube).
package kubeobjects
