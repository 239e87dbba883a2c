package apiclient

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// API lists one page of each resource the inventory needs, cluster-wide.
// Clientset implements it with client-go; tests may point it at a real
// kube-apiserver or at an httptest server speaking the API's JSON.
type API interface {
	ListNodes(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error)
	ListPods(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error)
	ListServices(ctx context.Context, opts metav1.ListOptions) (*corev1.ServiceList, error)
	ListEndpointSlices(ctx context.Context, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error)
}

// Clientset is the API over a client-go clientset: GET /api/v1/nodes,
// /api/v1/pods, /api/v1/services and
// /apis/discovery.k8s.io/v1/endpointslices with limit and continue.
type Clientset struct {
	kubernetes.Interface
}

// New builds the client-go clientset for rc.
func New(rc *rest.Config) (*Clientset, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return &Clientset{cs}, nil
}

// ListNodes lists one page of Nodes.
func (c *Clientset) ListNodes(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error) {
	return c.CoreV1().Nodes().List(ctx, opts)
}

// ListPods lists one page of Pods of every namespace.
func (c *Clientset) ListPods(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	return c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
}

// ListServices lists one page of Services of every namespace.
func (c *Clientset) ListServices(ctx context.Context, opts metav1.ListOptions) (*corev1.ServiceList, error) {
	return c.CoreV1().Services(metav1.NamespaceAll).List(ctx, opts)
}

// ListEndpointSlices lists one page of discovery.k8s.io/v1 EndpointSlices
// of every namespace.
func (c *Clientset) ListEndpointSlices(ctx context.Context, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error) {
	return c.DiscoveryV1().EndpointSlices(metav1.NamespaceAll).List(ctx, opts)
}
