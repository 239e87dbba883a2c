// Package apiserver is the minimal Kubernetes API client `exposure check`
// needs: read a kubeconfig (client-go's clientcmd subset: current context,
// server, CA, bearer token or client certificate) and GET the node and the
// kubelet's configz, without client-go.
package apiserver

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// Kubeconfig is the part of a kubeconfig file (clientcmd/api/v1 Config) the
// client uses.
type Kubeconfig struct {
	// CurrentContext names the context used.
	CurrentContext string `json:"current-context"`
	// Clusters, Users and Contexts are the named entries.
	Clusters []struct {
		Name    string  `json:"name"`
		Cluster Cluster `json:"cluster"`
	} `json:"clusters"`
	// Users are the credentials entries.
	Users []struct {
		Name string   `json:"name"`
		User AuthInfo `json:"user"`
	} `json:"users"`
	// Contexts pair a cluster with a user.
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
}

// Cluster is a kubeconfig cluster entry.
type Cluster struct {
	Server                   string `json:"server"`                     // https://HOST:PORT
	CertificateAuthority     string `json:"certificate-authority"`      // CA file
	CertificateAuthorityData string `json:"certificate-authority-data"` // base64 PEM
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`   // skip server verification
	TLSServerName            string `json:"tls-server-name"`            // SNI and verification name
}

// AuthInfo is a kubeconfig user entry. Exec and auth-provider plugins are
// not supported.
type AuthInfo struct {
	Token                 string         `json:"token"`                   // bearer token
	TokenFile             string         `json:"tokenFile"`               // file holding the bearer token
	ClientCertificate     string         `json:"client-certificate"`      // PEM file
	ClientCertificateData string         `json:"client-certificate-data"` // base64 PEM
	ClientKey             string         `json:"client-key"`              // PEM file
	ClientKeyData         string         `json:"client-key-data"`         // base64 PEM
	Exec                  map[string]any `json:"exec"`                    // unsupported plugin
	AuthProvider          map[string]any `json:"auth-provider"`           // unsupported plugin
}

// Credentials are the resolved connection settings of the current context:
// file references read, relative paths taken from the kubeconfig's directory
// (as clientcmd resolves them).
type Credentials struct {
	Server     string // API server URL
	CA         []byte // PEM bundle; nil means the system roots
	Insecure   bool   // skip server certificate verification
	ServerName string // TLS server name override
	Token      string // bearer token
	Cert, Key  []byte // PEM client certificate and key
}

// LoadKubeconfig reads a kubeconfig file and resolves its current context.
func LoadKubeconfig(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read kubeconfig: %w", err)
	}
	var kc Kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return Credentials{}, fmt.Errorf("decode kubeconfig %s: %w", path, err)
	}
	return kc.Resolve(filepath.Dir(path))
}

// Resolve returns the credentials of the current context, reading files
// relative to dir.
func (kc Kubeconfig) Resolve(dir string) (Credentials, error) {
	clusterName, userName, err := kc.context()
	if err != nil {
		return Credentials{}, err
	}
	var c Credentials
	for _, cl := range kc.Clusters {
		if cl.Name == clusterName {
			if err := c.setCluster(cl.Cluster, dir); err != nil {
				return c, err
			}
		}
	}
	if c.Server == "" {
		return c, fmt.Errorf("resolve kubeconfig: cluster %q has no server", clusterName)
	}
	for _, u := range kc.Users {
		if u.Name == userName {
			return c, c.setUser(u.User, dir)
		}
	}
	return c, nil
}

func (kc Kubeconfig) context() (string, string, error) {
	for _, ctx := range kc.Contexts {
		if ctx.Name == kc.CurrentContext {
			return ctx.Context.Cluster, ctx.Context.User, nil
		}
	}
	if kc.CurrentContext == "" && len(kc.Clusters) == 1 {
		user := ""
		if len(kc.Users) == 1 {
			user = kc.Users[0].Name
		}
		return kc.Clusters[0].Name, user, nil
	}
	return "", "", fmt.Errorf("resolve kubeconfig: context %q not found", kc.CurrentContext)
}

func (c *Credentials) setCluster(cl Cluster, dir string) error {
	c.Server, c.Insecure, c.ServerName = cl.Server, cl.InsecureSkipTLSVerify, cl.TLSServerName
	var err error
	c.CA, err = dataOrFile(cl.CertificateAuthorityData, cl.CertificateAuthority, dir)
	return err
}

func (c *Credentials) setUser(u AuthInfo, dir string) error {
	if u.Exec != nil || u.AuthProvider != nil {
		return fmt.Errorf("resolve kubeconfig: exec and auth-provider credential plugins are not supported")
	}
	c.Token = u.Token
	if u.TokenFile != "" {
		b, err := os.ReadFile(abs(dir, u.TokenFile))
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		c.Token = string(trimNewline(b))
	}
	var err error
	if c.Cert, err = dataOrFile(u.ClientCertificateData, u.ClientCertificate, dir); err != nil {
		return err
	}
	c.Key, err = dataOrFile(u.ClientKeyData, u.ClientKey, dir)
	return err
}

// dataOrFile returns base64 inline data, else the file's content, else nil.
func dataOrFile(data, file, dir string) ([]byte, error) {
	if data != "" {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("decode kubeconfig data: %w", err)
		}
		return b, nil
	}
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(abs(dir, file))
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig reference: %w", err)
	}
	return b, nil
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
