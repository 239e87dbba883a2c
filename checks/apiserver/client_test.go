package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const token = "s3cret"

// servers starts a fake kubelet (whose /configz answers kubeletStatus) and a
// fake API server serving the node and the node proxy's configz.
func servers(t *testing.T, kubeletStatus int) (api *httptest.Server) {
	t.Helper()
	kubelet := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/configz" || kubeletStatus != http.StatusOK {
			http.Error(w, "Forbidden (user=x, verb=get, resource=nodes, subresource=configz)", kubeletStatus)
			return
		}
		fmt.Fprint(w, `{"kubeletconfig":{"makeIPTablesUtilChains":true}}`)
	}))
	t.Cleanup(kubelet.Close)
	ku, _ := url.Parse(kubelet.URL)
	host, port, _ := strings.Cut(ku.Host, ":")
	api = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v1/nodes/node-a":
			fmt.Fprintf(w, `{"status":{"nodeInfo":{"kubeletVersion":"v1.33.2"},"daemonEndpoints":{"kubeletEndpoint":{"Port":%s}},"addresses":[{"type":"Hostname","address":"node-a"},{"type":"InternalIP","address":%q}]}}`, port, host)
		case "/api/v1/nodes/node-a/proxy/configz":
			fmt.Fprint(w, `{"kubeletconfig":{"makeIPTablesUtilChains":false}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)
	return api
}

// kubeconfigFor writes a kubeconfig trusting srv's certificate, with a
// relative tokenFile.
func kubeconfigFor(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: c
  cluster:
    server: %s
    certificate-authority-data: %s
contexts:
- name: ctx
  context: {cluster: c, user: u}
users:
- name: u
  user:
    tokenFile: token
`, srv.URL, base64.StdEncoding.EncodeToString(ca))
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigz(t *testing.T) {
	tests := []struct {
		name          string
		kubeletStatus int
		wantFrom      string
		wantBody      string
	}{
		// httptest servers share one certificate, so the kubelet's is
		// trusted like a kubelet serving certificate signed by the cluster CA.
		{"kubelet allows nodes/configz: straight from the kubelet", http.StatusOK, "kubelet", `{"kubeletconfig":{"makeIPTablesUtilChains":true}}`},
		{"kubelet forbids nodes/configz: node proxy", http.StatusForbidden, "/api/v1/nodes/node-a/proxy/configz", `{"kubeletconfig":{"makeIPTablesUtilChains":false}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := servers(t, tc.kubeletStatus)
			creds, err := LoadKubeconfig(kubeconfigFor(t, api))
			if err != nil {
				t.Fatalf("LoadKubeconfig: %v", err)
			}
			c, err := NewClient(creds)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			n, err := c.GetNode(context.Background(), "node-a")
			if err != nil || n.KubeletVersion != "v1.33.2" || !strings.HasPrefix(n.KubeletEndpoint, "https://127.0.0.1:") {
				t.Fatalf("GetNode: got %+v, %v; want v1.33.2 and a kubelet endpoint", n, err)
			}
			body, from, err := c.Configz(context.Background(), "node-a", n)
			if err != nil {
				t.Fatalf("Configz: got error %v, want none", err)
			}
			if tc.wantFrom == "kubelet" {
				tc.wantFrom = n.KubeletEndpoint + "/configz"
			}
			if from != tc.wantFrom || string(body) != tc.wantBody {
				t.Errorf("Configz: got %q from %q, want %q from %q", body, from, tc.wantBody, tc.wantFrom)
			}
		})
	}
}

func TestConfigzDirectFromKubelet(t *testing.T) {
	kubelet := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"kubeletconfig":{}}`)
	}))
	defer kubelet.Close()
	c, err := NewClient(Credentials{Server: "https://192.0.2.1:1", CA: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kubelet.Certificate().Raw})})
	if err != nil {
		t.Fatal(err)
	}
	_, from, err := c.Configz(context.Background(), "n", Node{KubeletEndpoint: kubelet.URL})
	if err != nil || from != kubelet.URL+"/configz" {
		t.Errorf("Configz: got from %q, %v; want %q", from, err, kubelet.URL+"/configz")
	}
}

func TestConfigzBothFail(t *testing.T) {
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer api.Close()
	c, err := NewClient(Credentials{Server: api.URL, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Configz(context.Background(), "n", Node{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Errorf("Configz: got %v, want a 403 StatusError", err)
	}
}

func TestResolveKubeconfig(t *testing.T) {
	tests := []struct {
		name    string
		kc      string
		want    Credentials
		wantErr string
	}{
		{"current context", `current-context: b
clusters: [{name: a, cluster: {server: "https://a"}}, {name: b, cluster: {server: "https://b", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: b, context: {cluster: b, user: u}}]`, Credentials{Server: "https://b", Insecure: true, Token: "t"}, ""},
		{"exec plugin unsupported", `current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]`, Credentials{}, "exec and auth-provider"},
		{"unknown context", `current-context: nope
clusters: [{name: c, cluster: {server: "https://c"}}]`, Credentials{}, `context "nope" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kc")
			if err := os.WriteFile(p, []byte(tc.kc), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadKubeconfig(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("LoadKubeconfig: got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKubeconfig: got error %v, want none", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LoadKubeconfig (-want +got):\n%s", diff)
			}
		})
	}
}

// selfSigned returns a TLS certificate no kubeconfig CA vouches for, as a
// kubelet's self-signed serving certificate is.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "node-a@1700000000"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestConfigzUntrustedKubelet: the kubelet's self-signed certificate fails
// verification, so the node proxy answers.
func TestConfigzUntrustedKubelet(t *testing.T) {
	kubelet := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"kubeletconfig":{"makeIPTablesUtilChains":true}}`)
	}))
	kubelet.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	kubelet.StartTLS()
	defer kubelet.Close()
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"kubeletconfig":{"makeIPTablesUtilChains":false}}`)
	}))
	defer api.Close()
	c, err := NewClient(Credentials{Server: api.URL, CA: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})})
	if err != nil {
		t.Fatal(err)
	}
	body, from, err := c.Configz(context.Background(), "node-a", Node{KubeletEndpoint: kubelet.URL})
	if err != nil || from != "/api/v1/nodes/node-a/proxy/configz" || !strings.Contains(string(body), "false") {
		t.Errorf("Configz: got %q from %q, %v; want the proxy's answer", body, from, err)
	}
}
