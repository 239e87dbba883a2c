package k8slab

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ServiceCIDR is the API server's --service-cluster-ip-range: a /16 so that
// many ClusterIPs fit.
const ServiceCIDR = "10.0.0.0/16"

// Cluster is a running etcd and kube-apiserver on loopback ports of the
// test binary's network namespace.
type Cluster struct {
	// Dir holds the data, certificates, logs and the kubeconfig.
	Dir string
	// Kubeconfig is the absolute path of a kubeconfig for the admin token.
	Kubeconfig string
	// Host is "127.0.0.1:PORT", the API server's HTTPS address.
	Host string
	// Token is the bearer token of the admin user (group system:masters).
	Token string
	// Client is a clientset for the admin user.
	Client kubernetes.Interface

	bins      Binaries
	etcdURL   string
	etcd, api *proc
}

// Timeouts of the start-up steps; the measured figures are about 1 s for
// etcd and 3–4 s for the API server on 2 cores.
const (
	etcdTimeout = 30 * time.Second
	apiTimeout  = 90 * time.Second
)

// Start starts etcd and kube-apiserver with data in a new temporary
// directory and waits until /readyz answers ok. Stop undoes it.
func Start(b Binaries) (*Cluster, error) {
	var c *Cluster
	var err error
	// A port picked free can be taken before the daemon binds it: retry.
	for range 3 {
		if c, err = startOnce(b); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return c, err
}

func startOnce(b Binaries) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "expo-k8s-")
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	c := &Cluster{Dir: dir, bins: b}
	if err := c.start(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return c, nil
}

func (c *Cluster) start() error {
	if err := c.startEtcd(); err != nil {
		return err
	}
	if err := c.writeCredentials(); err != nil {
		return err
	}
	if err := c.startAPIServer(); err != nil {
		return err
	}
	if err := c.writeKubeconfig(); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	c.Client, err = kubernetes.NewForConfig(cfg)
	return err
}

// Stop stops kube-apiserver and etcd and removes the directory.
func (c *Cluster) Stop() error {
	var errs []error
	for _, p := range []*proc{c.api, c.etcd} {
		if p != nil {
			if err := p.stop(10 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, os.RemoveAll(c.Dir))
	return errors.Join(errs...)
}

// freePorts returns n distinct TCP ports free on 127.0.0.1 right now.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startEtcd starts etcd on two free loopback ports. --unsafe-no-fsync is
// passed only when the binary lists it (etcd 3.5 and later; Debian 12 has
// 3.4).
func (c *Cluster) startEtcd() error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	argv := []string{c.bins.Etcd, "--name", "lab", "--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "lab=" + peer, "--log-level", "warn"}
	if etcdHasFlag(c.bins.Etcd, "--unsafe-no-fsync") {
		argv = append(argv, "--unsafe-no-fsync")
	}
	if c.etcd, err = startProc("etcd", filepath.Join(c.Dir, "etcd.log"), argv...); err != nil {
		return err
	}
	c.etcdURL = client
	return c.etcd.waitFor("etcd /health", etcdTimeout, func() error {
		return httpOK(http.DefaultClient, client+"/health", "", `"health":"true"`)
	})
}

// etcdHasFlag reports whether `etcd --help` lists flag.
func etcdHasFlag(etcd, flag string) bool {
	out, _ := execOutput(etcd, "--help")
	return strings.Contains(out, flag)
}

// writeCredentials writes the admin token file and the service-account
// signing key pair the API server insists on.
func (c *Cluster) writeCredentials() error {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	c.Token = hex.EncodeToString(tok)
	line := c.Token + ",admin,admin,system:masters\n"
	if err := os.WriteFile(filepath.Join(c.Dir, "tokens.csv"), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(c.Dir, "sa.key"), priv, 0o600); err != nil {
		return fmt.Errorf("write service-account key: %w", err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	if err := os.WriteFile(filepath.Join(c.Dir, "sa.pub"), pubPEM, 0o644); err != nil {
		return fmt.Errorf("write service-account key: %w", err)
	}
	return nil
}

// startAPIServer starts kube-apiserver on a free loopback port and waits
// for /readyz. The endpoint reconciler is off: it would try to publish
// 127.0.0.1 as the kubernetes Service's endpoint, which is refused.
func (c *Cluster) startAPIServer() error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.Host = "127.0.0.1:" + strconv.Itoa(ports[0])
	d := c.Dir
	argv := []string{c.bins.APIServer,
		"--etcd-servers=" + c.etcdURL, "--etcd-prefix=/registry",
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ports[0]),
		"--cert-dir=" + filepath.Join(d, "certs"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(d, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(d, "sa.key"),
		"--token-auth-file=" + filepath.Join(d, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-cluster-ip-range=" + ServiceCIDR,
		"--allow-privileged=true", "--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none", "--profiling=false"}
	if c.api, err = startProc("kube-apiserver", filepath.Join(d, "kube-apiserver.log"), argv...); err != nil {
		return err
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // readiness only; the clientset verifies
	return c.api.waitFor("kube-apiserver /readyz", apiTimeout, func() error {
		return httpOK(insecure, "https://"+c.Host+"/readyz", c.Token, "ok")
	})
}

// CA is the path of the API server's self-signed serving certificate.
func (c *Cluster) CA() string { return filepath.Join(c.Dir, "certs", "apiserver.crt") }

// writeKubeconfig writes a kubeconfig with absolute paths (a relative
// certificate-authority is resolved against the kubeconfig's directory).
func (c *Cluster) writeKubeconfig() error {
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://%s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: lab
  context:
    cluster: lab
    user: admin
current-context: lab
`, c.Host, c.CA(), c.Token)
	if err := os.WriteFile(c.Kubeconfig, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// httpOK GETs url and checks for status 200 and a body containing want.
func httpOK(client *http.Client, url, token, want string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return nil
}
