package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// API lists one page of each resource the inventory needs, cluster-wide.
// Client implements it over HTTP; tests may point it at a real
// kube-apiserver or at an httptest server speaking the API's JSON.
type API interface {
	ListNodes(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error)
	ListPods(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error)
	ListServices(ctx context.Context, opts metav1.ListOptions) (*corev1.ServiceList, error)
	ListEndpointSlices(ctx context.Context, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error)
}

// Client is the API as plain GETs of the four collections —
// /api/v1/nodes, /api/v1/pods, /api/v1/services and
// /apis/discovery.k8s.io/v1/endpointslices with limit and continue — in
// JSON, through client-go's authenticated transport (certificates, bearer
// tokens, exec credential plugins, impersonation: rest.HTTPClientFor).
// It does not use client-go's typed clientset: that package registers
// every API group of Kubernetes when the program starts, which every
// command of the binary would pay for in memory.
type Client struct {
	http      *http.Client
	base      *url.URL
	userAgent string
	// sleep waits before a retry; tests replace it.
	sleep func(context.Context, time.Duration) error
}

// maxRetries bounds the retries of a request the API server asks to be
// retried (429 Too Many Requests or 5xx with Retry-After, as client-go's
// request.go retries them, up to 10 times there).
const maxRetries = 5

// New builds the client for rc.
func New(rc *rest.Config) (*Client, error) {
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	base, _, err := rest.DefaultServerUrlFor(rc)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	ua := rc.UserAgent
	if ua == "" {
		ua = rest.DefaultKubernetesUserAgent()
	}
	return &Client{http: hc, base: base, userAgent: ua, sleep: sleepCtx}, nil
}

// ListNodes lists one page of Nodes.
func (c *Client) ListNodes(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error) {
	l := &corev1.NodeList{}
	return l, c.list(ctx, "/api/v1/nodes", schema.GroupResource{Resource: "nodes"}, opts, l)
}

// ListPods lists one page of Pods of every namespace.
func (c *Client) ListPods(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	l := &corev1.PodList{}
	return l, c.list(ctx, "/api/v1/pods", schema.GroupResource{Resource: "pods"}, opts, l)
}

// ListServices lists one page of Services of every namespace.
func (c *Client) ListServices(ctx context.Context, opts metav1.ListOptions) (*corev1.ServiceList, error) {
	l := &corev1.ServiceList{}
	return l, c.list(ctx, "/api/v1/services", schema.GroupResource{Resource: "services"}, opts, l)
}

// ListEndpointSlices lists one page of discovery.k8s.io/v1 EndpointSlices
// of every namespace.
func (c *Client) ListEndpointSlices(ctx context.Context, opts metav1.ListOptions) (*discoveryv1.EndpointSliceList, error) {
	l := &discoveryv1.EndpointSliceList{}
	gr := schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}
	return l, c.list(ctx, "/apis/discovery.k8s.io/v1/endpointslices", gr, opts, l)
}

// list GETs one page of a collection into out.
func (c *Client) list(ctx context.Context, p string, gr schema.GroupResource, opts metav1.ListOptions, out any) error {
	u := c.listURL(p, opts)
	for attempt := 0; ; attempt++ {
		body, code, retryAfter, err := c.get(ctx, u)
		if err != nil {
			return err
		}
		if code >= 200 && code < 300 {
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("decode %s: %w", u.Path, err)
			}
			return nil
		}
		if retryAfter > 0 && attempt < maxRetries && (code == http.StatusTooManyRequests || code >= 500) {
			if err := c.sleep(ctx, retryAfter); err != nil {
				return err
			}
			continue
		}
		return statusError(code, gr, body, retryAfter)
	}
}

// listURL is the collection's address with limit and continue.
func (c *Client) listURL(p string, opts metav1.ListOptions) *url.URL {
	u := *c.base
	u.Path = path.Join(u.Path, p)
	q := url.Values{}
	if opts.Limit > 0 {
		q.Set("limit", strconv.FormatInt(opts.Limit, 10))
	}
	if opts.Continue != "" {
		q.Set("continue", opts.Continue)
	}
	u.RawQuery = q.Encode()
	return &u
}

// get performs one GET and reads the whole answer.
func (c *Client) get(ctx context.Context, u *url.URL) (body []byte, code int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("get %s: %w", u.Path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read %s: %w", u.Path, err)
	}
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return body, resp.StatusCode, retryAfter, nil
}

// statusError turns a failed answer into the API machinery's error: the
// server's metav1.Status when the body is one (so IsForbidden,
// IsResourceExpired and the RBAC message work as with client-go), else a
// generic error for the HTTP code.
func statusError(code int, gr schema.GroupResource, body []byte, retryAfter time.Duration) error {
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		if st.Code == 0 {
			st.Code = int32(code)
		}
		return &apierrors.StatusError{ErrStatus: st}
	}
	return apierrors.NewGenericServerResponse(code, "list", gr, "", string(body), int(retryAfter/time.Second), true)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
