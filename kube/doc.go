// Package kube joins a cluster's Kubernetes objects to a node's exposure
// map: it names the Service or Pod behind every exposed port and reconciles
// what the cluster declares (NodePort/LoadBalancer/externalIP Services,
// hostPort and hostNetwork pods, EndpointSlices) with what the node
// programs and listens on, reporting the differences as findings.
//
// The package is pure: objects arrive as an Inventory (decoded from
// kubectl output by Decode, or listed from the API by package
// kube/apiclient), rules and listeners as the exposure package's model.
package kube
