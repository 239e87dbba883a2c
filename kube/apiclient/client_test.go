package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// newTestClient points a Client at h and records the retry waits instead
// of sleeping.
func newTestClient(t *testing.T, h http.Handler, host func(string) string) (*Client, *[]time.Duration) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(&rest.Config{Host: host(srv.URL), UserAgent: "exposure-test"})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return c, &waits
}

func same(u string) string { return u }

// TestClientRetriesThrottled: 429 with Retry-After is retried after the
// wait the server asks for, as client-go does; the page then decodes.
func TestClientRetriesThrottled(t *testing.T) {
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") != "exposure-test" {
			t.Errorf("got Accept %q User-Agent %q", r.Header.Get("Accept"), r.Header.Get("User-Agent"))
		}
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "3")
			writeStatus(w, http.StatusTooManyRequests, "TooManyRequests", "slow down")
			return
		}
		w.Write([]byte(`{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"n1"}}]}`))
	})
	c, waits := newTestClient(t, h, same)
	l, err := c.ListNodes(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != "n1" {
		t.Errorf("got items %+v, want node n1", l.Items)
	}
	if len(*waits) != 2 || (*waits)[0] != 3*time.Second {
		t.Errorf("got waits %v, want two of 3s", *waits)
	}
}

// TestClientGivesUpRetrying: a server that always throttles gets
// maxRetries retries, then the 429 is the error.
func TestClientGivesUpRetrying(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeStatus(w, http.StatusTooManyRequests, "TooManyRequests", "slow down")
	})
	c, waits := newTestClient(t, h, same)
	_, err := c.ListPods(context.Background(), metav1.ListOptions{})
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("got %v, want a TooManyRequests error", err)
	}
	if len(*waits) != maxRetries {
		t.Errorf("got %d retries, want %d", len(*waits), maxRetries)
	}
}

// TestClientNonStatusBody: an error answer that is not a metav1.Status (a
// proxy's HTML page) still reads as the HTTP code's reason.
func TestClientNonStatusBody(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("<html>denied by proxy</html>"))
	})
	c, waits := newTestClient(t, h, same)
	_, err := c.ListServices(context.Background(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want a Forbidden error", err)
	}
	if len(*waits) != 0 {
		t.Errorf("got %d retries of a 403, want none", len(*waits))
	}
}

// TestClientBadJSON: a 200 whose body is not the list is an error naming
// the path, not an empty list.
func TestClientBadJSON(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"items": 7}`)) })
	c, _ := newTestClient(t, h, same)
	_, err := c.ListEndpointSlices(context.Background(), metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "decode /apis/discovery.k8s.io/v1/endpointslices") {
		t.Fatalf("got %v, want a decode error naming the path", err)
	}
}

// TestClientHostPath: a server address with a path (an API behind a
// proxy prefix) keeps the prefix, and limit/continue are escaped.
func TestClientHostPath(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + "?" + r.URL.RawQuery
		w.Write([]byte(`{"kind":"ServiceList","apiVersion":"v1","metadata":{},"items":[]}`))
	})
	c, _ := newTestClient(t, h, func(u string) string { return u + "/k8s/clusters/c-1" })
	if _, err := c.ListServices(context.Background(), metav1.ListOptions{Limit: 5, Continue: "a b&c"}); err != nil {
		t.Fatal(err)
	}
	want := "/k8s/clusters/c-1/api/v1/services?continue=a+b%26c&limit=5"
	if got != want {
		t.Errorf("got request %q, want %q", got, want)
	}
}

// TestClientCancelled: a cancelled context ends the wait for a retry.
func TestClientCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
