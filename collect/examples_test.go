package collect

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nf "github.com/exposure-audit/exposure/netfilter"
)

var update = flag.Bool("update", false, "rewrite examples/*.bundle and golden files")

// fakeSock is a synthetic socket of an example node.
type fakeSock struct {
	proto, addr string
	port        int
	pid         int
}

// fakeProc is a synthetic process of an example node.
type fakeProc struct {
	pid     int
	comm    string
	cmdline string
	cgroup  string
	netns   string
}

const hostNS = "net:[4026531840]"

// exampleNodes describe the synthetic but realistic socket tables and
// processes of the example nodes (what `ss -tulpn` shows on such nodes).
var exampleNodes = map[string]struct {
	procs []fakeProc
	socks []fakeSock
}{
	"kube-proxy-node": {
		procs: []fakeProc{
			{812, "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "0::/system.slice/ssh.service", hostNS},
			{1190, "kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf --container-runtime-endpoint=unix:///run/containerd/containerd.sock", "0::/system.slice/kubelet.service", hostNS},
			{1001, "containerd", "/usr/bin/containerd", "0::/system.slice/containerd.service", hostNS},
			{2311, "kube-proxy", "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf --hostname-override=kp-node", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5e1b0c8a_2f0d_4c4e_9a51_3c1f2d7e8b90.slice/cri-containerd-4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a.scope", hostNS},
			{2570, "node_exporter", "/bin/node_exporter --path.rootfs=/host --web.listen-address=0.0.0.0:9100", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9a7c3e1f_6b2d_4e8a_b0c4_1d3f5a7b9c2e.slice/cri-containerd-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d.scope", hostNS},
			{640, "chronyd", "/usr/sbin/chronyd -F 1", "0::/system.slice/chrony.service", hostNS},
		},
		socks: []fakeSock{
			{"tcp", "0.0.0.0", 22, 812}, {"tcp6", "::", 22, 812},
			{"tcp6", "::", 10250, 1190}, {"tcp", "127.0.0.1", 10248, 1190},
			{"tcp", "127.0.0.1", 35729, 1001},
			{"tcp6", "::", 10256, 2311}, {"tcp", "127.0.0.1", 10249, 2311},
			{"tcp6", "::", 9100, 2570},
			{"udp", "127.0.0.1", 323, 640}, {"udp6", "::1", 323, 640},
		},
	},
	"openshift-ovnk-node": {
		procs: []fakeProc{
			{1402, "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "0::/system.slice/sshd.service", hostNS},
			{2203, "kubelet", "/usr/bin/kubelet --config=/etc/kubernetes/kubelet.conf --bootstrap-kubeconfig=/etc/kubernetes/kubeconfig --kubeconfig=/var/lib/kubelet/kubeconfig --node-ip=192.0.2.20", "0::/system.slice/kubelet.service", hostNS},
			{1980, "crio", "/usr/bin/crio", "0::/system.slice/crio.service", hostNS},
			{3377, "ovnkube", "/usr/bin/ovnkube --init-node worker-0 --gateway-mode local --metrics-bind-address 127.0.0.1:29103 --ovn-metrics-bind-address 127.0.0.1:29105", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f9e2c71_8a4b_4d6e_9c0f_2b1a7d5e3c84.slice/crio-7c1e5a9d3b7f1e5c9a3d7b1f5e9c3a7d1b5f9e3c7a1d5b9f3e7c1a5d9b3f7e1c.scope", hostNS},
			{3512, "kube-rbac-proxy", "/usr/bin/kube-rbac-proxy --logtostderr --secure-listen-address=:9103 --upstream=http://127.0.0.1:29103/", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f9e2c71_8a4b_4d6e_9c0f_2b1a7d5e3c84.slice/crio-2b8f4d0a6c2e8b4f0d6a2c8e4b0f6d2a8c4e0b6f2d8a4c0e6b2f8d4a0c6e2b8f.scope", hostNS},
			{4021, "node_exporter", "/bin/node_exporter --web.listen-address=127.0.0.1:9100", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podc2d4e6f8_1a3b_4c5d_8e7f_9a0b1c2d3e4f.slice/crio-5d1f7b3e9a5c1f7d3b9e5a1c7f3d9b5e1a7c3f9d5b1e7a3c9f5d1b7e3a9c5f1d.scope", hostNS},
			{4090, "kube-rbac-proxy", "/usr/bin/kube-rbac-proxy --secure-listen-address=[$(IP)]:9100 --upstream=http://127.0.0.1:9100/", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podc2d4e6f8_1a3b_4c5d_8e7f_9a0b1c2d3e4f.slice/crio-8e4a0c6f2b8d4a0e6c2f8b4d0a6e2c8f4b0d6a2e8c4f0b6d2a8e4c0f6b2d8a4e.scope", hostNS},
			{1210, "ovsdb-server", "ovsdb-server /etc/openvswitch/conf.db -vconsole:emer --remote=punix:/var/run/openvswitch/db.sock", "0::/system.slice/ovsdb-server.service", hostNS},
		},
		socks: []fakeSock{
			{"tcp", "0.0.0.0", 22, 1402}, {"tcp6", "::", 22, 1402},
			{"tcp6", "::", 10250, 2203}, {"tcp", "127.0.0.1", 10248, 2203},
			{"tcp", "127.0.0.1", 29103, 3377}, {"tcp", "127.0.0.1", 29105, 3377},
			{"tcp6", "::", 9103, 3512},
			{"tcp", "127.0.0.1", 9100, 4021}, {"tcp", "192.0.2.20", 9100, 4090},
			{"udp", "0.0.0.0", 6081, 0},
		},
	},
	"docker-host": {
		procs: []fakeProc{
			{702, "sshd", "sshd: /usr/sbin/sshd -D", "0::/system.slice/ssh.service", hostNS},
			{955, "dockerd", "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "0::/system.slice/docker.service", hostNS},
			{3101, "docker-proxy", "/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80", "0::/system.slice/docker.service", hostNS},
			{3125, "docker-proxy", "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 9090 -container-ip 172.17.0.3 -container-port 80", "0::/system.slice/docker.service", hostNS},
			{3150, "docker-proxy", "/usr/sbin/docker-proxy -proto udp -host-ip 0.0.0.0 -host-port 5353 -container-ip 172.17.0.4 -container-port 53", "0::/system.slice/docker.service", hostNS},
			{3322, "docker-proxy", "/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8443 -container-ip 172.18.0.2 -container-port 443", "0::/system.slice/docker.service", hostNS},
			{3490, "postgres", "postgres -c listen_addresses=*", "0::/system.slice/docker-0d3c5e7a9b1f3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3c.scope", hostNS},
		},
		socks: []fakeSock{
			{"tcp", "0.0.0.0", 22, 702}, {"tcp6", "::", 22, 702},
			{"tcp", "0.0.0.0", 8080, 3101}, {"tcp", "127.0.0.1", 9090, 3125}, {"udp", "0.0.0.0", 5353, 3150},
			{"tcp", "0.0.0.0", 8443, 3322},
			{"tcp", "0.0.0.0", 5432, 3490},
			{"tcp", "0.0.0.0", 2375, 955},
		},
	},
}

// procNetLine formats one /proc/net row as the kernel does.
func procNetLine(i int, s fakeSock, inode uint64) string {
	a := netip.MustParseAddr(s.addr)
	b := a.AsSlice()
	for j := 0; j+4 <= len(b); j += 4 {
		b[j], b[j+1], b[j+2], b[j+3] = b[j+3], b[j+2], b[j+1], b[j]
	}
	st := "0A"
	if strings.HasPrefix(s.proto, "udp") {
		st = "07"
	}
	zero := strings.Repeat("0", len(b)*2)
	return fmt.Sprintf("%4d: %X:%04X %s:0000 %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0",
		i, b, s.port, zero, st, inode)
}

// exampleBundle builds the bundle of one example node.
func exampleBundle(t *testing.T, name string) *Bundle {
	t.Helper()
	rules, err := os.ReadFile(filepath.Join("..", "examples", name+".iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := os.ReadFile(filepath.Join("..", "examples", name+".local-addrs"))
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := ParseLocalAddrs(addrs, name)
	if err != nil {
		t.Fatal(err)
	}
	node := exampleNodes[name]
	b := &Bundle{FormatVersion: BundleFormatVersion, Kind: BundleKind, CreatedAt: "2026-11-23T00:00:00Z", Host: name,
		Tool:       "exposure (example built by collect/examples_test.go from examples/" + name + ".iptables-save and .local-addrs)",
		Rulesets:   []RulesetDump{{Name: "iptables-nft ipv4", Source: "examples/" + name + ".iptables-save", Format: FormatIptables, Backend: nf.BackendIptablesNft, Family: 4, Data: string(rules)}},
		Interfaces: ifs, Routes: connectedRoutes(ifs), HostNetNS: hostNS,
		Provenance: map[string]string{"rulesets": "real or generated captures (see examples/README.md)", "interfaces": "examples/" + name + ".local-addrs",
			"routes": "connected routes of the interfaces", "proc_net": "synthetic, shaped like the node's `ss -tulpn`", "processes": "synthetic"},
		Notes: []string{"example bundle: the rules are a real or generated capture; sockets and processes are synthetic"}}
	tables := map[string][]string{}
	inodes := map[int][]uint64{}
	for i, s := range node.socks {
		ino := uint64(30000 + i)
		tables[s.proto] = append(tables[s.proto], procNetLine(len(tables[s.proto]), s, ino))
		inodes[s.pid] = append(inodes[s.pid], ino)
	}
	for _, n := range []string{"tcp", "tcp6", "udp", "udp6"} {
		head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
		b.ProcNet = append(b.ProcNet, ProcFile{Name: n, Source: "/proc/net/" + n, Data: head + "\n" + strings.Join(tables[n], "\n") + "\n"})
	}
	for _, p := range node.procs {
		b.Processes = append(b.Processes, Process{PID: p.pid, Comm: p.comm, Cmdline: strings.Fields(p.cmdline), Cgroup: p.cgroup, NetNS: p.netns, Sockets: inodes[p.pid]})
	}
	return b
}

func TestExampleBundles(t *testing.T) {
	for _, name := range []string{"kube-proxy-node", "openshift-ovnk-node", "docker-host"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteBundle(&buf, exampleBundle(t, name), false); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "examples", name+".bundle")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read %s: %v (run go test ./collect -run TestExampleBundles -update)", path, err)
			}
			if !bytes.Equal(got, buf.Bytes()) {
				t.Fatalf("%s is stale: run go test ./collect -run TestExampleBundles -update", path)
			}
			b, err := ReadBundle(got)
			if err != nil {
				t.Fatal(err)
			}
			in, err := b.Input(Loader{})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Listeners) == 0 || len(in.Ruleset.Tables) == 0 {
				t.Fatalf("got %d listeners and %d tables, want some of each", len(in.Listeners), len(in.Ruleset.Tables))
			}
		})
	}
}
