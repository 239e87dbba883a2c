package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/exposure-audit/exposure/internal/k8slab"
)

// The tests below run against a real etcd and kube-apiserver
// (internal/k8slab); they skip when the binaries are not built.

func TestMain(m *testing.M) { os.Exit(k8slab.Main(m)) }

// countingAPI records the options of every request that reaches the API.
type countingAPI struct {
	API
	mu       sync.Mutex
	requests map[string][]metav1.ListOptions
}

func (c *countingAPI) note(res string, o metav1.ListOptions) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.requests == nil {
		c.requests = map[string][]metav1.ListOptions{}
	}
	c.requests[res] = append(c.requests[res], o)
}

func (c *countingAPI) ListServices(ctx context.Context, o metav1.ListOptions) (*corev1.ServiceList, error) {
	c.note(ResServices, o)
	return c.API.ListServices(ctx, o)
}

func (c *countingAPI) ListEndpointSlices(ctx context.Context, o metav1.ListOptions) (*discoveryv1.EndpointSliceList, error) {
	c.note(ResEndpointSlices, o)
	return c.API.ListEndpointSlices(ctx, o)
}

// realClient builds the clientset through RESTConfig from the lab's
// kubeconfig, acting as user when one is named (the admin impersonates).
func realClient(t *testing.T, c *k8slab.Cluster, user string) *Client {
	t.Helper()
	rc, src, err := RESTConfig(Config{Kubeconfig: c.Kubeconfig, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if src.Server != "https://"+c.Host {
		t.Errorf("got server %q, want https://%s", src.Server, c.Host)
	}
	rc.Impersonate = rest.ImpersonationConfig{UserName: user}
	cs, err := New(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestLoadRealAPIServerPages(t *testing.T) {
	c := k8slab.Shared(t)
	objs := k8slab.NewObjects(t, c)
	var want []string
	for i := range 5 {
		svc := objs.Service(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i)},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}})
		objs.EndpointSlice(svc, k8slab.Endpoint{IP: netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", 10+i)), Node: "n1"})
		want = append(want, objs.Namespace+"/"+svc.Name)
	}
	api := &countingAPI{API: realClient(t, c, "")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv, err := Load(ctx, api, Options{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got, gotSlices []string
	for _, s := range inv.Services {
		if s.Namespace == objs.Namespace {
			got = append(got, s.Namespace+"/"+s.Name)
			if s.Spec.Ports[0].NodePort == 0 || len(s.ManagedFields) != 0 {
				t.Errorf("got %s with nodePort %d and %d managedFields entries, want an allocated nodePort and none", s.Name, s.Spec.Ports[0].NodePort, len(s.ManagedFields))
			}
		}
	}
	for _, s := range inv.EndpointSlices {
		if s.Namespace == objs.Namespace {
			gotSlices = append(gotSlices, s.Name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || len(gotSlices) != len(want) {
		t.Errorf("got services %v and %d slices, want %v and %d", got, len(gotSlices), want, len(want))
	}
	reqs := api.requests[ResServices]
	if len(reqs) < 3 {
		t.Fatalf("got %d service list requests, want at least 3 pages of 2 for %d services", len(reqs), len(inv.Services))
	}
	for i, o := range reqs {
		if o.Limit != 2 || (i > 0) != (o.Continue != "") {
			t.Errorf("request %d: got limit %d, continue %q; want limit 2 and a continue token after the first", i, o.Limit, o.Continue)
		}
	}
}

// TestLoadRealRBAC: a user that may list nodes, pods and services but not
// endpointslices gets the API server's own 403, named by verb and resource.
func TestLoadRealRBAC(t *testing.T) {
	c := k8slab.Shared(t)
	objs := k8slab.NewObjects(t, c)
	user := "audit-" + objs.Namespace
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	grantList(t, ctx, c, user, "", "nodes", "pods", "services")
	api := realClient(t, c, user)
	var err error
	// The authorizer reads RBAC objects through an informer: wait until
	// the grant is visible (nodes listable), then check what is refused.
	for {
		if _, err = api.ListNodes(ctx, metav1.ListOptions{Limit: 1}); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("got %v listing nodes with the grant, want it allowed", err)
	}
	_, err = Load(ctx, api, Options{})
	var le *ListError
	if !errors.As(err, &le) || !le.Forbidden || le.Resource != ResEndpointSlices || le.Verb != "list" {
		t.Fatalf("got %v, want a forbidden list of %s", err, ResEndpointSlices)
	}
	wantMsg := fmt.Sprintf(`list endpointslices.discovery.k8s.io cluster-wide: forbidden: endpointslices.discovery.k8s.io is forbidden: User %q cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope`, user)
	if err.Error() != wantMsg {
		t.Errorf("got error %q, want %q", err, wantMsg)
	}
}

// grantList binds a new ClusterRole allowing list on resources of group to
// user, and removes both at the end of the test.
func grantList(t *testing.T, ctx context.Context, c *k8slab.Cluster, user, group string, resources ...string) {
	t.Helper()
	name := strings.ReplaceAll(user, ":", "-")
	roles, bindings := c.Client.RbacV1().ClusterRoles(), c.Client.RbacV1().ClusterRoleBindings()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: resources, Verbs: []string{"list"}}}}
	if _, err := roles.Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roles.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := bindings.Create(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bindings.Delete(context.Background(), name, metav1.DeleteOptions{}) })
}
