package reallab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CNIPath is where Debian's containernetworking-plugins installs the
// plugins.
const CNIPath = "/usr/lib/cni"

// CNINetwork is the network name the lab gives the plugins; containerd's
// default configuration uses the same one.
const CNINetwork = "containerd-net"

// PortMapping is one entry of the portmap plugin's
// runtimeConfig.portMappings (a pod's hostPort).
type PortMapping struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// CNIPod is a pod network namespace attached to a node namespace by the
// bridge plugin (host-local IPAM) and given hostPorts by the portmap
// plugin, the way containerd's CRI plugin calls them through libcni.
type CNIPod struct {
	tb     testing.TB
	Dir    string // private directory: configs, results, host-local data
	NodeNS string
	NS     string // the pod's namespace name
	ID     string // the sandbox id (CNI_CONTAINERID)
	IP     string // the pod's address from the bridge plugin's result
	// chain of plugin configurations added, each with its prevResult.
	added [][]byte
}

// cniLeftovers are fixed paths the plugins write outside the private
// directory (host-local's default dataDir is overridden).
var cniLeftovers = []string{"/var/lib/cni", "/run/cni"}

// AddCNIPod makes namespace podNS, runs bridge ADD then portmap ADD for it
// inside nodeNS, and registers the reverse DEL calls and the namespace's
// deletion with tb.Cleanup.
func AddCNIPod(tb testing.TB, nodeNS, podNS, subnet string, maps []PortMapping) *CNIPod {
	tb.Helper()
	dir, err := os.MkdirTemp("", "expo-cni-")
	if err != nil {
		tb.Fatal(err)
	}
	left := absent(cniLeftovers...)
	p := &CNIPod{tb: tb, Dir: dir, NodeNS: nodeNS, NS: podNS, ID: sandboxID()}
	if out, err := exec.Command("ip", "netns", "add", podNS).CombinedOutput(); err != nil {
		tb.Fatalf("ip netns add %s: %v: %s", podNS, err, out)
	}
	tb.Cleanup(func() { p.close(left) })
	bridge := p.bridgeConf(subnet)
	res, err := p.plugin("ADD", "bridge", bridge)
	if err != nil {
		tb.Fatal(err)
	}
	p.added = append(p.added, bridge)
	if p.IP, err = resultIP(res); err != nil {
		tb.Fatal(err)
	}
	pm, err := portmapConf(res, maps)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := p.plugin("ADD", "portmap", pm); err != nil {
		tb.Fatal(err)
	}
	p.added = append(p.added, pm)
	return p
}

// sandboxID returns 64 hex digits, like a containerd sandbox id.
func sandboxID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// bridgeConf is the bridge plugin's configuration: bridge cni-expo0 as
// the pods' gateway with masquerading, host-local IPAM in Dir.
func (p *CNIPod) bridgeConf(subnet string) []byte {
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": CNINetwork, "type": "bridge", "bridge": "cni-expo0",
		"isGateway": true, "ipMasq": true,
		"ipam": map[string]any{
			"type": "host-local", "ranges": [][]map[string]string{{{"subnet": subnet}}},
			"routes": []map[string]string{{"dst": "0.0.0.0/0"}}, "dataDir": filepath.Join(p.Dir, "ipam"),
		},
	}
	b, _ := json.Marshal(conf)
	return b
}

// portmapConf is the portmap plugin's configuration with the bridge's
// result as prevResult and the mappings as runtimeConfig.
func portmapConf(prev []byte, maps []PortMapping) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": CNINetwork, "type": "portmap", "snat": true,
		"capabilities":  map[string]bool{"portMappings": true},
		"runtimeConfig": map[string]any{"portMappings": maps},
		"prevResult":    json.RawMessage(prev),
	}
	b, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("portmap config: %w", err)
	}
	return b, nil
}

// resultIP reads the first address of a CNI result.
func resultIP(res []byte) (string, error) {
	var r struct {
		IPs []struct {
			Address string `json:"address"`
		} `json:"ips"`
	}
	if err := json.Unmarshal(res, &r); err != nil || len(r.IPs) == 0 {
		return "", fmt.Errorf("read CNI result (%v): %s", err, res)
	}
	addr, _, _ := strings.Cut(r.IPs[0].Address, "/")
	return addr, nil
}

// plugin runs one CNI plugin with command (ADD, DEL) inside the node
// namespace and returns its stdout.
func (p *CNIPod) plugin(command, name string, conf []byte) ([]byte, error) {
	argv := inNetns(p.NodeNS, filepath.Join(CNIPath, name))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "CNI_COMMAND="+command, "CNI_CONTAINERID="+p.ID,
		"CNI_NETNS="+NamedNetns(p.NS), "CNI_IFNAME=eth0", "CNI_PATH="+CNIPath)
	cmd.Stdin = bytes.NewReader(conf)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cni %s %s: %w: %s %s", name, command, err, out.String(), errb.String())
	}
	return out.Bytes(), nil
}

// close runs DEL in reverse order, deletes the pod namespace, the private
// directory and the leftovers.
func (p *CNIPod) close(left leftovers) {
	names := []string{"bridge", "portmap"}
	for i := len(p.added) - 1; i >= 0; i-- {
		if _, err := p.plugin("DEL", names[i], p.added[i]); err != nil {
			p.tb.Error(err)
		}
	}
	if out, err := exec.Command("ip", "netns", "delete", p.NS).CombinedOutput(); err != nil {
		p.tb.Errorf("ip netns delete %s: %v: %s", p.NS, err, out)
	}
	if err := os.RemoveAll(p.Dir); err != nil {
		p.tb.Error(err)
	}
	if err := left.remove(); err != nil {
		p.tb.Error(err)
	}
}
