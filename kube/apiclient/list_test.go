package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
)

// apiServer speaks the list part of the API's JSON: GET of a collection
// with limit and continue, or a 403 Status for the resources it forbids.
// The continue token is the offset of the next item.
type apiServer struct {
	lists     map[string]apiList
	forbidden map[string]string // path -> RBAC message
	expireOne bool              // answer the first continued request with 410 Gone

	mu       sync.Mutex
	requests map[string][]string // path -> "limit=N continue=T" of each request
}

type apiList struct {
	kind, apiVersion string
	items            []json.RawMessage
}

// Collection paths the clientset requests.
const (
	pathNodes  = "/api/v1/nodes"
	pathPods   = "/api/v1/pods"
	pathSvcs   = "/api/v1/services"
	pathSlices = "/apis/discovery.k8s.io/v1/endpointslices"
)

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{lists: map[string]apiList{}, forbidden: map[string]string{}, requests: map[string][]string{}}
	for path, file := range map[string]string{pathNodes: "nodes.json", pathSvcs: "services.json", pathSlices: "endpointslices.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Kind       string            `json:"kind"`
			APIVersion string            `json:"apiVersion"`
			Items      []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(data, &l); err != nil {
			t.Fatal(err)
		}
		s.lists[path] = apiList{l.Kind, l.APIVersion, l.Items}
	}
	s.lists[pathPods] = apiList{kind: "PodList", apiVersion: "v1"}
	return s
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.requests[r.URL.Path] = append(s.requests[r.URL.Path], fmt.Sprintf("limit=%s continue=%s", q.Get("limit"), q.Get("continue")))
	expire := s.expireOne && q.Get("continue") != ""
	if expire {
		s.expireOne = false
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if msg, ok := s.forbidden[r.URL.Path]; ok {
		writeStatus(w, http.StatusForbidden, "Forbidden", msg)
		return
	}
	if expire {
		writeStatus(w, http.StatusGone, "Expired", "The provided continue parameter is too old to display a consistent list result.")
		return
	}
	l, ok := s.lists[r.URL.Path]
	if !ok {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	s.writePage(w, l, q.Get("limit"), q.Get("continue"))
}

func (s *apiServer) writePage(w http.ResponseWriter, l apiList, limit, cont string) {
	from, _ := strconv.Atoi(cont)
	to := len(l.items)
	if n, err := strconv.Atoi(limit); err == nil && n > 0 && from+n < to {
		to = from + n
	}
	meta := map[string]string{"resourceVersion": "264"}
	if to < len(l.items) {
		meta["continue"] = strconv.Itoa(to)
	}
	items := l.items[from:to]
	if items == nil {
		items = []json.RawMessage{}
	}
	json.NewEncoder(w).Encode(map[string]any{"kind": l.kind, "apiVersion": l.apiVersion, "metadata": meta, "items": items})
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func (s *apiServer) load(t *testing.T, opt Options) (*apiServerResult, error) {
	t.Helper()
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Load(context.Background(), c, opt)
	if err != nil {
		return nil, err
	}
	res := &apiServerResult{}
	for _, n := range inv.Nodes {
		res.nodes = append(res.nodes, n.Name)
	}
	for _, x := range inv.Services {
		res.services = append(res.services, x.Namespace+"/"+x.Name)
		res.managed += len(x.ManagedFields)
	}
	for _, x := range inv.EndpointSlices {
		res.slices = append(res.slices, x.Namespace+"/"+x.Name)
	}
	res.pods = len(inv.Pods)
	return res, nil
}

type apiServerResult struct {
	nodes, services, slices []string
	pods, managed           int
}

// itemNames lists "namespace/name" of a served list, in order.
func (s *apiServer) itemNames(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, raw := range s.lists[path].items {
		var o struct {
			Metadata struct{ Name, Namespace string } `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o.Metadata.Namespace+"/"+o.Metadata.Name)
	}
	return out
}

func TestLoadPages(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int64
		wantLimit string
	}{
		{"default page size", 0, "500"},
		{"two per page", 2, "2"},
		{"one per page", 1, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newAPIServer(t)
			got, err := s.load(t, Options{PageSize: tc.pageSize})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.itemNames(t, pathSvcs), got.services); diff != "" {
				t.Errorf("got services differ from the served list (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(s.itemNames(t, pathSlices), got.slices); diff != "" {
				t.Errorf("got endpointslices differ from the served list (-want +got):\n%s", diff)
			}
			if len(got.nodes) != 1 || got.pods != 0 || got.managed != 0 {
				t.Errorf("got %d nodes, %d pods, %d managedFields entries, want 1, 0, 0", len(got.nodes), got.pods, got.managed)
			}
			for path, l := range s.lists {
				reqs := s.requests[path]
				n := len(l.items)
				size, _ := strconv.Atoi(tc.wantLimit)
				wantPages := max(1, (n+size-1)/size)
				if len(reqs) != wantPages {
					t.Errorf("%s: got %d requests %v, want %d pages of %s", path, len(reqs), reqs, wantPages, tc.wantLimit)
				}
				for i, r := range reqs {
					want := fmt.Sprintf("limit=%s continue=", tc.wantLimit)
					if i > 0 {
						want += strconv.Itoa(i * size)
					}
					if r != want {
						t.Errorf("%s request %d: got %q, want %q", path, i, r, want)
					}
				}
			}
		})
	}
}

func TestLoadForbidden(t *testing.T) {
	s := newAPIServer(t)
	msg := `endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:audit:exposure" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope`
	s.forbidden[pathSlices] = msg
	_, err := s.load(t, Options{PageSize: 2})
	if err == nil {
		t.Fatal("got no error, want a forbidden list error")
	}
	want := "list endpointslices.discovery.k8s.io cluster-wide: forbidden: " + msg
	if err.Error() != want {
		t.Errorf("got error %q, want %q", err, want)
	}
	var le *ListError
	if !errors.As(err, &le) || !le.Forbidden || le.Verb != "list" || le.Resource != ResEndpointSlices {
		t.Errorf("got %#v, want a forbidden *ListError for list %s", le, ResEndpointSlices)
	}
}

func TestLoadNotForbidden(t *testing.T) {
	s := newAPIServer(t)
	delete(s.lists, pathPods)
	_, err := s.load(t, Options{})
	var le *ListError
	if !errors.As(err, &le) || le.Forbidden || le.Resource != ResPods {
		t.Fatalf("got error %v, want a not-forbidden *ListError for pods", err)
	}
}

// TestLoadExpiredContinue: a 410 on a continued request restarts the list
// unpaged, and nothing is listed twice.
func TestLoadExpiredContinue(t *testing.T) {
	s := newAPIServer(t)
	s.expireOne = true
	got, err := s.load(t, Options{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.itemNames(t, pathSvcs), got.services); diff != "" {
		t.Errorf("got services differ (-want +got):\n%s", diff)
	}
	want := []string{"limit=2 continue=", "limit=2 continue=2", "limit= continue="}
	if diff := cmp.Diff(want, s.requests[pathSvcs]); diff != "" {
		t.Errorf("got services requests differ (-want +got):\n%s", diff)
	}
}
