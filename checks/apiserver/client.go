package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Client GETs API server (and kubelet) paths with kubeconfig credentials.
type Client struct {
	creds Credentials
	http  *http.Client
}

// NewClient builds a client for the credentials. A missing CA means the
// system roots, as client-go does.
func NewClient(c Credentials) (*Client, error) {
	tc := &tls.Config{InsecureSkipVerify: c.Insecure, ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if len(c.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CA) {
			return nil, errors.New("load CA: no PEM certificate found")
		}
		tc.RootCAs = pool
	}
	if len(c.Cert) > 0 {
		pair, err := tls.X509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}
	return &Client{creds: c, http: &http.Client{Transport: tr, Timeout: 15 * time.Second}}, nil
}

// StatusError is a non-2xx HTTP answer.
type StatusError struct {
	URL  string // the URL requested
	Code int    // the HTTP status code
	Body string // the start of the answer, for the message
}

// Error implements error: "get URL: HTTP code: body".
func (e *StatusError) Error() string {
	return fmt.Sprintf("get %s: HTTP %d: %s", e.URL, e.Code, e.Body)
}

// Get fetches base+path and returns the body of a 2xx answer.
func (c *Client) Get(ctx context.Context, base, path string) ([]byte, error) {
	u := base + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if c.creds.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.creds.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{URL: u, Code: resp.StatusCode, Body: firstLine(body)}
	}
	return body, nil
}

func firstLine(b []byte) string {
	s := string(b)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Node is the part of a core/v1 Node the checks use.
type Node struct {
	// KubeletVersion is status.nodeInfo.kubeletVersion ("v1.33.2").
	KubeletVersion string
	// KubeletEndpoint is https://ADDRESS:PORT of the kubelet API
	// (status.addresses InternalIP, status.daemonEndpoints.kubeletEndpoint).
	KubeletEndpoint string
}

// GetNode reads node name's kubelet version and endpoint.
func (c *Client) GetNode(ctx context.Context, name string) (Node, error) {
	body, err := c.Get(ctx, c.creds.Server, "/api/v1/nodes/"+url.PathEscape(name))
	if err != nil {
		return Node{}, err
	}
	var n struct {
		Status struct {
			NodeInfo        struct{ KubeletVersion string } `json:"nodeInfo"`
			DaemonEndpoints struct {
				KubeletEndpoint struct{ Port int } `json:"kubeletEndpoint"`
			} `json:"daemonEndpoints"`
			Addresses []struct{ Type, Address string } `json:"addresses"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return Node{}, fmt.Errorf("decode node %s: %w", name, err)
	}
	out := Node{KubeletVersion: n.Status.NodeInfo.KubeletVersion}
	for _, a := range n.Status.Addresses {
		if a.Type == "InternalIP" && n.Status.DaemonEndpoints.KubeletEndpoint.Port > 0 {
			out.KubeletEndpoint = "https://" + net.JoinHostPort(a.Address, strconv.Itoa(n.Status.DaemonEndpoints.KubeletEndpoint.Port))
			break
		}
	}
	return out, nil
}

// Configz returns the kubelet's /configz body: first straight from the
// kubelet (authorized as nodes/configz when KubeletFineGrainedAuthz is on,
// beta since 1.33), then through the API server's node proxy
// (/api/v1/nodes/NODE/proxy/configz, which needs nodes/proxy). It returns the
// URL that answered, or the errors of both attempts.
func (c *Client) Configz(ctx context.Context, node string, n Node) ([]byte, string, error) {
	var errs []error
	if n.KubeletEndpoint != "" {
		body, err := c.Get(ctx, n.KubeletEndpoint, "/configz")
		if err == nil {
			return body, n.KubeletEndpoint + "/configz", nil
		}
		errs = append(errs, err)
	}
	p := "/api/v1/nodes/" + url.PathEscape(node) + "/proxy/configz"
	body, err := c.Get(ctx, c.creds.Server, p)
	if err == nil {
		return body, p, nil
	}
	errs = append(errs, err)
	return nil, "", fmt.Errorf("get configz: %w", errors.Join(errs...))
}
