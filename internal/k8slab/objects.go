package k8slab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Objects creates API objects for one test in a namespace of its own and
// deletes them (Services, EndpointSlices, Nodes) at cleanup, so that the
// next test's kube-proxy does not see them. The namespace itself stays
// (without a controller-manager it would never finish terminating).
type Objects struct {
	// Namespace is the test's namespace, "expo-<rand>".
	Namespace string
	// Client is the admin clientset.
	Client kubernetes.Interface

	tb      testing.TB
	cleanup []func(context.Context) error
}

// apiTimeoutOp bounds one API call.
const apiTimeoutOp = 30 * time.Second

// NewObjects creates a fresh namespace on the cluster.
func NewObjects(tb testing.TB, c *Cluster) *Objects {
	tb.Helper()
	o := &Objects{Namespace: fmt.Sprintf("expo-%06x", rand.Uint32()&0xffffff), Client: c.Client, tb: tb}
	ctx, cancel := o.ctx()
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.Namespace}}
	if _, err := o.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		tb.Fatalf("create namespace: %v", err)
	}
	tb.Cleanup(o.deleteAll)
	return o
}

// ctx bounds one API call; cancel it when the call returns.
func (o *Objects) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), apiTimeoutOp)
}

// deleteAll deletes what the test created, newest first; objects the test
// deleted itself are skipped.
func (o *Objects) deleteAll() {
	for i := len(o.cleanup) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeoutOp)
		if err := o.cleanup[i](ctx); err != nil && !apierrors.IsNotFound(err) {
			o.tb.Errorf("delete test object: %v", err)
		}
		cancel()
	}
}

// Node creates a cluster-scoped Node named name with InternalIP addresses
// set through the status subresource (there is no kubelet to do it).
func (o *Objects) Node(name string, internalIPs ...netip.Addr) *corev1.Node {
	o.tb.Helper()
	ctx, cancel := o.ctx()
	defer cancel()
	nodes := o.Client.CoreV1().Nodes()
	n, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		o.tb.Fatalf("create node %s: %v", name, err)
	}
	o.cleanup = append(o.cleanup, func(ctx context.Context) error {
		return nodes.Delete(ctx, name, metav1.DeleteOptions{})
	})
	for _, ip := range internalIPs {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip.String()})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "KubeletReady"}}
	if n, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		o.tb.Fatalf("set node %s status: %v", name, err)
	}
	return n
}

// Service creates svc in the test's namespace. LoadBalancer ingress given
// in svc.Status is set afterwards through the status subresource (there is
// no cloud controller). It returns the Service as the API stored it, with
// its ClusterIP and allocated node ports.
func (o *Objects) Service(svc *corev1.Service) *corev1.Service {
	o.tb.Helper()
	ctx, cancel := o.ctx()
	defer cancel()
	svcs := o.Client.CoreV1().Services(o.Namespace)
	ingress := svc.Status.LoadBalancer.Ingress
	svc = svc.DeepCopy()
	svc.Namespace, svc.Status = o.Namespace, corev1.ServiceStatus{}
	got, err := svcs.Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		o.tb.Fatalf("create service %s: %v", svc.Name, err)
	}
	name := got.Name
	o.cleanup = append(o.cleanup, func(ctx context.Context) error {
		return svcs.Delete(ctx, name, metav1.DeleteOptions{})
	})
	if len(ingress) == 0 {
		return got
	}
	got.Status.LoadBalancer.Ingress = ingress
	if got, err = svcs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		o.tb.Fatalf("set service %s ingress: %v", name, err)
	}
	return got
}

// DeleteService deletes a Service of the test's namespace.
func (o *Objects) DeleteService(name string) {
	o.tb.Helper()
	ctx, cancel := o.ctx()
	defer cancel()
	if err := o.Client.CoreV1().Services(o.Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		o.tb.Fatalf("delete service %s: %v", name, err)
	}
}

// Endpoint is one backend of a Service: a pod's address and the node it
// runs on (kube-proxy's externalTrafficPolicy: Local keeps only endpoints
// of its own node).
type Endpoint struct {
	IP   netip.Addr
	Node string
}

// EndpointSlice creates the slice of svc (label kubernetes.io/service-name)
// with eps, all ready, and one port per Service port: its name, protocol
// and numeric targetPort.
func (o *Objects) EndpointSlice(svc *corev1.Service, eps ...Endpoint) *discoveryv1.EndpointSlice {
	o.tb.Helper()
	ctx, cancel := o.ctx()
	defer cancel()
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-lab", Namespace: o.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "k8slab"}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, p := range svc.Spec.Ports {
		port, proto, name := int32(p.TargetPort.IntValue()), p.Protocol, p.Name
		if port == 0 {
			port = p.Port
		}
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &port})
	}
	ready := true
	for _, e := range eps {
		node := e.Node
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.IP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: &node})
	}
	slices := o.Client.DiscoveryV1().EndpointSlices(o.Namespace)
	got, err := slices.Create(ctx, es, metav1.CreateOptions{})
	if err != nil {
		o.tb.Fatalf("create endpointslice of %s: %v", svc.Name, err)
	}
	o.cleanup = append(o.cleanup, func(ctx context.Context) error {
		return slices.Delete(ctx, es.Name, metav1.DeleteOptions{})
	})
	return got
}
