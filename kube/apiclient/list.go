package apiclient

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-audit/exposure/kube"
)

// DefaultPageSize is the list chunk size (kubectl's --chunk-size default).
const DefaultPageSize = 500

// Options tune the listing.
type Options struct {
	// PageSize is the limit of each list request; 0 means
	// DefaultPageSize. Tests set it low to force several pages.
	PageSize int64
}

// Resource names, as RBAC rules and error messages spell them.
const (
	ResNodes          = "nodes"
	ResPods           = "pods"
	ResServices       = "services"
	ResEndpointSlices = "endpointslices.discovery.k8s.io"
)

// ListError is a failed list of one resource. Forbidden is set for an
// RBAC denial (HTTP 403): the caller lacks the verb on the resource
// cluster-wide (a ClusterRole granting it is missing).
type ListError struct {
	Verb      string
	Resource  string
	Forbidden bool
	Err       error
}

// Error reads "list endpointslices.discovery.k8s.io cluster-wide:
// forbidden: <the API server's message>".
func (e *ListError) Error() string {
	var st apierrors.APIStatus
	if e.Forbidden && errors.As(e.Err, &st) {
		return fmt.Sprintf("%s %s cluster-wide: forbidden: %s", e.Verb, e.Resource, st.Status().Message)
	}
	return fmt.Sprintf("%s %s cluster-wide: %v", e.Verb, e.Resource, e.Err)
}

// Unwrap returns the client-go error.
func (e *ListError) Unwrap() error { return e.Err }

// Load lists every Node, Pod, Service and EndpointSlice of the cluster
// into an Inventory, page by page. Objects lose their managedFields (the
// join never reads them and they double a bundle's size).
func Load(ctx context.Context, api API, opt Options) (*kube.Inventory, error) {
	size := opt.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	inv := &kube.Inventory{}
	var err error
	if inv.Nodes, err = listAll(ctx, ResNodes, size, nodePages(api)); err != nil {
		return nil, err
	}
	if inv.Pods, err = listAll(ctx, ResPods, size, podPages(api)); err != nil {
		return nil, err
	}
	if inv.Services, err = listAll(ctx, ResServices, size, servicePages(api)); err != nil {
		return nil, err
	}
	if inv.EndpointSlices, err = listAll(ctx, ResEndpointSlices, size, slicePages(api)); err != nil {
		return nil, err
	}
	stripManagedFields(inv)
	return inv, nil
}

// pageFunc lists one page: its items and the continue token ("" on the
// last page).
type pageFunc[T any] func(context.Context, metav1.ListOptions) ([]T, string, error)

func nodePages(api API) pageFunc[corev1.Node] {
	return func(ctx context.Context, o metav1.ListOptions) ([]corev1.Node, string, error) {
		l, err := api.ListNodes(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}
}

func podPages(api API) pageFunc[corev1.Pod] {
	return func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
		l, err := api.ListPods(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}
}

func servicePages(api API) pageFunc[corev1.Service] {
	return func(ctx context.Context, o metav1.ListOptions) ([]corev1.Service, string, error) {
		l, err := api.ListServices(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}
}

func slicePages(api API) pageFunc[discoveryv1.EndpointSlice] {
	return func(ctx context.Context, o metav1.ListOptions) ([]discoveryv1.EndpointSlice, string, error) {
		l, err := api.ListEndpointSlices(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}
}

// listAll follows the continue tokens. When a token expires (410 Gone:
// the list took longer than etcd's compaction window) it lists again in
// one unpaged request, as kubectl's pager does.
func listAll[T any](ctx context.Context, res string, size int64, page pageFunc[T]) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: size}
	for {
		items, cont, err := page(ctx, opts)
		if err != nil && apierrors.IsResourceExpired(err) && opts.Continue != "" {
			out, opts = nil, metav1.ListOptions{}
			continue
		}
		if err != nil {
			return nil, listError(res, err)
		}
		out = append(out, items...)
		if cont == "" {
			return out, nil
		}
		opts.Continue = cont
	}
}

func listError(res string, err error) error {
	return &ListError{Verb: "list", Resource: res, Forbidden: apierrors.IsForbidden(err), Err: err}
}

func stripManagedFields(inv *kube.Inventory) {
	for i := range inv.Nodes {
		inv.Nodes[i].ManagedFields = nil
	}
	for i := range inv.Pods {
		inv.Pods[i].ManagedFields = nil
	}
	for i := range inv.Services {
		inv.Services[i].ManagedFields = nil
	}
	for i := range inv.EndpointSlices {
		inv.EndpointSlices[i].ManagedFields = nil
	}
}
