// Package apiclient lists the cluster objects the Kubernetes join reads
// (Nodes, Pods, Services, EndpointSlices) from a live API server with
// client-go, page by page, into a *kube.Inventory.
//
// It is the I/O edge of package kube: the join and reconcile logic stays
// pure and reads only the Inventory this package fills.
package apiclient

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says where the API server is and how to list from it.
type Config struct {
	// Kubeconfig is the kubeconfig file named on the command line; when
	// empty, $KUBECONFIG (a list of files, merged as kubectl merges them),
	// then ~/.kube/config, then the in-cluster service account.
	Kubeconfig string
	// Context overrides the kubeconfig's current-context.
	Context string
	// Getenv and Home stand in for the process environment and home
	// directory (tests); nil and "" read the real ones.
	Getenv func(string) string
	Home   string
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
}

// Source says which credentials were chosen: the kubeconfig files and
// context, or the in-cluster service account, and the server URL.
type Source struct {
	Files     []string `json:"files,omitempty"`
	Context   string   `json:"context,omitempty"`
	InCluster bool     `json:"in_cluster,omitempty"`
	Server    string   `json:"server"`
}

// String describes the source for notes and errors.
func (s Source) String() string {
	switch {
	case s.InCluster:
		return "in-cluster service account, " + s.Server
	case s.Context != "":
		return fmt.Sprintf("%s (context %s), %s", strings.Join(s.Files, ":"), s.Context, s.Server)
	}
	return strings.Join(s.Files, ":") + ", " + s.Server
}

// ErrNoConfig reports that no kubeconfig was named or found and the
// process does not run in a pod (no KUBERNETES_SERVICE_HOST).
var ErrNoConfig = errors.New("no kubeconfig: --kubeconfig not given, $KUBECONFIG unset, no ~/.kube/config, not in a pod")

// RESTConfig resolves the client configuration in kubectl's order:
// --kubeconfig, $KUBECONFIG, ~/.kube/config; in a pod (the kubelet sets
// KUBERNETES_SERVICE_HOST) with none of them, the service account token
// and CA mounted under /var/run/secrets/kubernetes.io/serviceaccount.
func RESTConfig(c Config) (*rest.Config, Source, error) {
	files := c.files()
	if len(files) == 0 {
		return c.inCluster()
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: files}
	if c.Kubeconfig != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, Source{}, fmt.Errorf("load kubeconfig %s: %w", strings.Join(files, ":"), err)
	}
	src := Source{Files: files, Context: c.Context, Server: rc.Host}
	if raw, err := cc.RawConfig(); err == nil && src.Context == "" {
		src.Context = raw.CurrentContext
	}
	return c.tune(rc), src, nil
}

// inCluster reads the service account the kubelet mounts in a pod
// (KUBERNETES_SERVICE_HOST/PORT, token and CA under
// /var/run/secrets/kubernetes.io/serviceaccount).
func (c Config) inCluster() (*rest.Config, Source, error) {
	if c.getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, Source{}, ErrNoConfig
	}
	if c.Context != "" {
		return nil, Source{}, fmt.Errorf("load in-cluster config: --context %q needs a kubeconfig", c.Context)
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, Source{}, fmt.Errorf("load in-cluster config: %w", err)
	}
	return c.tune(rc), Source{InCluster: true, Server: rc.Host}, nil
}

// files lists the kubeconfig files to merge, in precedence order.
func (c Config) files() []string {
	if c.Kubeconfig != "" {
		return []string{c.Kubeconfig}
	}
	if env := c.getenv("KUBECONFIG"); env != "" {
		var out []string
		for _, f := range filepath.SplitList(env) {
			if f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	home := c.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return nil
	}
	def := filepath.Join(home, ".kube", "config")
	if _, err := os.Stat(def); err != nil {
		return nil
	}
	return []string{def}
}

func (c Config) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

// tune sets what a one-shot, read-only lister wants: a request timeout,
// no client-side throttling of the page requests, API warnings dropped
// (client-go would log them) and a user agent naming the tool.
func (c Config) tune(rc *rest.Config) *rest.Config {
	rc.Timeout = c.Timeout
	if rc.Timeout == 0 {
		rc.Timeout = 30 * time.Second
	}
	rc.QPS, rc.Burst = 100, 200
	rc.WarningHandler = rest.NoWarnings{}
	rc.UserAgent = "exposure (read-only inventory)"
	return rc
}
