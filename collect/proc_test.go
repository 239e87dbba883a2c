package collect

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/exposure"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2AF8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0
   2: 0200000A:0016 0100000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 100 0 0 10 0
`

const tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:280A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 100 0 0 10 0
`

func TestParseProcNet(t *testing.T) {
	tests := []struct {
		name, proto, data string
		want              []Socket
	}{
		{"tcp listeners and a connection", "tcp", tcpTable, []Socket{
			{Proto: "tcp", Addr: netip.MustParseAddr("0.0.0.0"), Port: 22, State: 0x0A, Remote: netip.MustParseAddr("0.0.0.0"), Inode: 1001},
			{Proto: "tcp", Addr: netip.MustParseAddr("127.0.0.1"), Port: 11000, State: 0x0A, Remote: netip.MustParseAddr("0.0.0.0"), Inode: 1002},
			{Proto: "tcp", Addr: netip.MustParseAddr("10.0.0.2"), Port: 22, State: 0x01, Remote: netip.MustParseAddr("10.0.0.1"), RPort: 54321, Inode: 1003},
		}},
		{"tcp6 wildcard and specific", "tcp6", tcp6Table, []Socket{
			{Proto: "tcp", Addr: netip.MustParseAddr("::"), Port: 10250, State: 0x0A, Remote: netip.MustParseAddr("::"), Inode: 2001},
			{Proto: "tcp", Addr: netip.MustParseAddr("2001:db8::1"), Port: 80, State: 0x0A, Remote: netip.MustParseAddr("::"), Inode: 2002},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcNet([]byte(tc.data), tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("got sockets differ (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseCgroup(t *testing.T) {
	tests := []struct {
		name, cgroup string
		want         Container
	}{
		{"crio systemd scope with pod", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f9e2c71_8a4b_4d6e_9c0f_2b1a7d5e3c84.slice/crio-7c1e5a9d3b7f1e5c9a3d7b1f5e9c3a7d1b5f9e3c7a1d5b9f3e7c1a5d9b3f7e1c.scope",
			Container{Runtime: "crio", ID: "7c1e5a9d3b7f1e5c9a3d7b1f5e9c3a7d1b5f9e3c7a1d5b9f3e7c1a5d9b3f7e1c", PodUID: "3f9e2c71-8a4b-4d6e-9c0f-2b1a7d5e3c84"}},
		{"containerd scope", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5e1b0c8a_2f0d_4c4e_9a51_3c1f2d7e8b90.slice/cri-containerd-4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a.scope",
			Container{Runtime: "containerd", ID: "4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a", PodUID: "5e1b0c8a-2f0d-4c4e-9a51-3c1f2d7e8b90"}},
		{"docker scope", "0::/system.slice/docker-0d3c5e7a9b1f3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3c.scope",
			Container{Runtime: "docker", ID: "0d3c5e7a9b1f3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3c"}},
		{"podman", "0::/machine.slice/libpod-1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b.scope",
			Container{Runtime: "podman", ID: "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b"}},
		{"cgroupfs docker", "12:pids:/docker/0d3c5e7a9b1f3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3c",
			Container{Runtime: "docker", ID: "0d3c5e7a9b1f3d5c7e9a1b3d5f7c9e1a3b5d7f9c1e3a5b7d9f1c3e5a7b9d1f3c"}},
		{"cgroupfs kubepods", "0::/kubepods/besteffort/pod5e1b0c8a-2f0d-4c4e-9a51-3c1f2d7e8b90/4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a",
			Container{ID: "4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a", PodUID: "5e1b0c8a-2f0d-4c4e-9a51-3c1f2d7e8b90"}},
		{"host service", "0::/system.slice/ssh.service", Container{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseCgroup(tc.cgroup); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// procFixture is a /proc tree: two processes, one in a pod.
func procFixture() fstest.MapFS {
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: 0o777 | 1<<27}
	}
	return fstest.MapFS{
		"net/tcp":               {Data: []byte(tcpTable)},
		"net/tcp6":              {Data: []byte(tcp6Table)},
		"net/route":             {Data: []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n*\t000012C6\t00000000\t0201\t0\t0\t0\t0000FEFF\t0\t0\t0\n")},
		"self/ns/net":           link("net:[4026531840]"),
		"812/comm":              {Data: []byte("sshd\n")},
		"812/cmdline":           {Data: []byte("/usr/sbin/sshd\x00-D\x00")},
		"812/cgroup":            {Data: []byte("0::/system.slice/ssh.service\n")},
		"812/ns/net":            link("net:[4026531840]"),
		"812/fd/3":              link("socket:[1001]"),
		"812/fd/4":              link("/dev/null"),
		"1190/comm":             {Data: []byte("kubelet\n")},
		"1190/cmdline":          {Data: []byte("/usr/bin/kubelet\x00--config=/var/lib/kubelet/config.yaml\x00")},
		"1190/cgroup":           {Data: []byte("0::/kubepods.slice/kubepods-pod5e1b0c8a_2f0d_4c4e_9a51_3c1f2d7e8b90.slice/cri-containerd-4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a.scope\n")},
		"1190/ns/net":           link("net:[4026531840]"),
		"1190/fd/7":             link("socket:[2001]"),
		"net/ip_tables_names":   {Data: []byte("filter\nnat\n")},
		"net/ip6_tables_names":  {Data: []byte("")},
		"sys/net/ipv4/ip_forwd": {Data: []byte("1\n")},
	}
}

func TestListenersFromProc(t *testing.T) {
	fsys := procFixture()
	var socks []Socket
	for _, n := range []string{"tcp", "tcp6"} {
		data, _ := fsys.ReadFile("net/" + n)
		s, err := ParseProcNet(data, n)
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, s...)
	}
	procs, notes := ReadProcesses(fsys)
	if len(notes) != 0 {
		t.Errorf("got notes %q, want none", notes)
	}
	got := Listeners(socks, procs, "net:[4026531840]")
	want := []exposure.Listener{
		{Proto: "tcp", Addr: "0.0.0.0", Port: 22, Wildcard: true, Inode: 1001, PID: 812, Process: "sshd", Cmdline: "/usr/sbin/sshd -D", HostNetNS: true},
		{Proto: "tcp", Addr: "2001:db8::1", Port: 80, Inode: 2002, HostNetNS: true},
		{Proto: "tcp", Addr: "::", Port: 10250, Wildcard: true, Inode: 2001, PID: 1190, Process: "kubelet", Cmdline: "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml",
			Runtime: "containerd", Container: "4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a", PodUID: "5e1b0c8a-2f0d-4c4e-9a51-3c1f2d7e8b90", HostNetNS: true},
		{Proto: "tcp", Addr: "127.0.0.1", Port: 11000, Inode: 1002, HostNetNS: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("got listeners differ (-want +got):\n%s", d)
	}
}

// fakeRunner answers commands from a table and records them.
type fakeRunner struct {
	out  map[string]string
	runs []string
}

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{name}, args...), " ")
	f.runs = append(f.runs, cmd)
	if out, ok := f.out[cmd]; ok {
		return []byte(out), nil
	}
	return nil, errors.New("run " + name + ": permission denied")
}

type fakeNet struct{}

func (fakeNet) Interfaces() ([]Interface, error) {
	return []Interface{{Name: "lo", Addrs: []string{"127.0.0.1/8"}}, {Name: "eth0", Addrs: []string{"10.0.0.2/24"}}}, nil
}

func TestLiveSnapshot(t *testing.T) {
	r := &fakeRunner{out: map[string]string{
		"iptables-legacy-save -t filter": "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
		"iptables-legacy-save -t nat":    "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n",
		"iptables-nft-save":              "# Generated by iptables-nft-save\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
		"nft -j list tables":             `{"nftables":[{"metainfo":{}},{"table":{"family":"ip","name":"filter","handle":1}},{"table":{"family":"inet","name":"fw","handle":2}}]}`,
		"nft -j list table inet fw":      `{"nftables":[{"table":{"family":"inet","name":"fw","handle":2}}]}`,
	}}
	l := Live{Run: r, Proc: procFixture(), Net: fakeNet{}, Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Host: "n1", Tool: "test"}
	b := l.Snapshot(context.Background())
	wantRuns := []string{"iptables-legacy-save -t filter", "iptables-legacy-save -t nat", "iptables-nft-save", "ip6tables-nft-save", "nft -j list tables", "nft -j list table inet fw"}
	// ip6tables-nft-save failed (the fake has no answer): an "ip6 filter"
	// table would be left out with a note, never read through nft.
	if d := cmp.Diff(wantRuns, r.runs); d != "" {
		t.Errorf("got commands differ (-want +got):\n%s", d)
	}
	if !strings.Contains(strings.Join(b.Notes, "\n"), "both iptables-legacy and iptables-nft hold tables") {
		t.Errorf("got notes %q, want the legacy+nft warning", b.Notes)
	}
	if got := len(b.Rulesets); got != 3 {
		t.Errorf("got %d rulesets, want 3 (legacy ipv4, iptables-nft ipv4, nft inet fw)", got)
	}
	wantRoutes := []Route{{Prefix: "0.0.0.0/0", Iface: "eth0", Type: "unicast"}, {Prefix: "10.0.0.0/24", Iface: "eth0", Type: "unicast"}, {Prefix: "198.18.0.0/15", Type: "unreachable"}}
	if d := cmp.Diff(wantRoutes, b.Routes); d != "" {
		t.Errorf("got routes differ (-want +got):\n%s", d)
	}
	b.Rulesets = b.Rulesets[:2] // the fake nft table needs the nftables front-end
	in, err := b.Input(Loader{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(in.Listeners); got != 4 {
		t.Errorf("got %d listeners, want 4", got)
	}
}

func TestReadBundleVersions(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   bool
	}{
		{"current", `{"format_version":1,"kind":"exposure-snapshot"}`, false},
		{"newer", `{"format_version":2,"kind":"exposure-snapshot"}`, true},
		{"missing version", `{"kind":"exposure-snapshot"}`, true},
		{"other kind", `{"format_version":1,"kind":"something"}`, true},
		{"not json", `*filter`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadBundle([]byte(tc.doc))
			if (err != nil) != tc.wantErr {
				t.Errorf("got error %v, want error %t", err, tc.wantErr)
			}
		})
	}
}

func TestBundleGzipRoundTrip(t *testing.T) {
	b := &Bundle{FormatVersion: 1, Kind: BundleKind, Host: "h", Notes: []string{"x"}}
	var buf strings.Builder
	if err := WriteBundle(&buf, b, true); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBundle([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "h" || len(got.Notes) != 1 {
		t.Errorf("got %+v, want host h and one note", got)
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add([]byte(tcpTable), "tcp")
	f.Add([]byte(tcp6Table), "tcp6")
	f.Fuzz(func(t *testing.T, data []byte, proto string) {
		_, _ = ParseProcNet(data, proto)
	})
}

func FuzzParseLocalAddrs(f *testing.F) {
	f.Add([]byte("lo 127.0.0.1/8\neth0 192.0.2.2/24 # node\n10.0.0.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseLocalAddrs(data, "fuzz")
	})
}

func FuzzReadBundle(f *testing.F) {
	f.Add([]byte(`{"format_version":1,"kind":"exposure-snapshot","rulesets":[{"name":"x","format":"iptables","data":"*filter\nCOMMIT\n"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := ReadBundle(data); err == nil {
			_, _ = b.Input(Loader{})
		}
	})
}

func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseRoutes4(data)
		_ = ParseRoutes6(data)
	})
}
