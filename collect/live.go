package collect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Runner runs a read-only command and returns its standard output. Live
// only ever asks it for dumps (iptables-*-save, nft list); it never runs
// anything that changes state.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs commands with os/exec.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	stackOnce.Do(raiseStackLimit)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("run %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var stackOnce sync.Once

// raiseStackLimit lifts the soft stack limit the dump commands inherit to
// the hard limit: iptables-nft-save (1.8.9) recurses deeply enough to
// overflow the default 8 MiB stack on a ~300,000-rule kube-proxy ruleset.
// It changes nothing but this process's (and its children's) limit.
func raiseStackLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_STACK, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_STACK, &lim)
	}
}

// NetReader lists the node's interfaces and addresses (netlink).
type NetReader interface {
	Interfaces() ([]Interface, error)
}

// StdNet reads interfaces with the standard library (RTM_GETLINK and
// RTM_GETADDR over netlink), which works without privileges.
type StdNet struct{}

// Interfaces implements NetReader.
func (StdNet) Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []Interface
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", i.Name, err)
		}
		it := Interface{Name: i.Name, MAC: i.HardwareAddr.String(), Addrs: []string{}}
		for _, a := range addrs {
			it.Addrs = append(it.Addrs, a.String())
		}
		out = append(out, it)
	}
	return out, nil
}

// Live collects a node's state, read-only.
type Live struct {
	Run Runner
	// Proc is the /proc tree (os.DirFS("/proc"), or a fixture).
	Proc fs.FS
	Net  NetReader
	// Tables lists nf_tables tables; nil runs `nft -j list tables`.
	Tables TableLister
	// Now and Host stamp the bundle.
	Now  time.Time
	Host string
	Tool string
}

// Snapshot reads everything into a bundle. What cannot be read is noted,
// never fatal: a non-root run still reports sockets and addresses.
func (l Live) Snapshot(ctx context.Context) *Bundle {
	b := &Bundle{FormatVersion: BundleFormatVersion, Kind: BundleKind, CreatedAt: l.Now.UTC().Format(time.RFC3339),
		Host: l.Host, Tool: l.Tool, Rulesets: []RulesetDump{}, Interfaces: []Interface{}, Routes: []Route{},
		ProcNet: []ProcFile{}, Processes: []Process{}, Notes: []string{},
		Provenance: map[string]string{"interfaces": "netlink (RTM_GETLINK, RTM_GETADDR)", "routes": "/proc/net/route, /proc/net/ipv6_route",
			"proc_net": "/proc/net/{tcp,tcp6,udp,udp6,raw,raw6}", "processes": "/proc/PID/{fd,comm,cmdline,cgroup,ns/net}"}}
	l.rules(ctx, b)
	l.network(b)
	l.sockets(b)
	return b
}

func (l Live) note(b *Bundle, format string, args ...any) {
	b.Notes = append(b.Notes, fmt.Sprintf(format, args...))
}

// rules dumps every backend that holds tables.
func (l Live) rules(ctx context.Context, b *Bundle) {
	legacy := l.legacy(ctx, b, 4) + l.legacy(ctx, b, 6)
	n4, ok4 := l.iptablesNft(ctx, b, 4)
	n6, ok6 := l.iptablesNft(ctx, b, 6)
	if legacy > 0 && n4+n6 > 0 {
		l.note(b, "both iptables-legacy and iptables-nft hold tables: the kernel runs both, and so does the analysis")
	}
	unread := map[string]bool{"ip": !ok4, "ip6": !ok6}
	l.nftTables(ctx, b, unread)
}

// nftTables dumps the native nftables tables one by one (`nft -j list
// tables`, then `nft -j list table FAMILY NAME`), leaving out the tables
// iptables-nft-save already read: listing those through nft translates
// every xt rule and takes minutes on a large kube-proxy node.
func (l Live) nftTables(ctx context.Context, b *Bundle, unread map[string]bool) {
	tables, err := l.tables(ctx)
	if err != nil {
		l.note(b, "nftables: could not list tables (%v)", err)
		return
	}
	owned := iptablesNftTables(b.Rulesets)
	for _, t := range tables {
		if owned[t[0]+" "+t[1]] {
			continue
		}
		if unread[t[0]] && iptablesTableNames[t[1]] {
			// iptables-nft-save failed: nft would show its xt rules, which
			// only iptables can read. The table is missing from the
			// analysis, and the note says so.
			l.note(b, "nftables: table %s %s looks like iptables-nft's, which could not be read: left out of the analysis", t[0], t[1])
			continue
		}
		data, err := l.Run.Run(ctx, "nft", "-j", "list", "table", t[0], t[1])
		if err != nil {
			l.note(b, "nftables: %v", err)
			continue
		}
		b.Rulesets = append(b.Rulesets, RulesetDump{Name: "nftables " + t[0] + " " + t[1], Source: "nft -j list table " + t[0] + " " + t[1], Format: FormatNftJSON, Data: string(data)})
	}
}

// tables lists the nf_tables tables with the TableLister, or nft.
func (l Live) tables(ctx context.Context) ([][2]string, error) {
	if l.Tables != nil {
		return l.Tables.Tables()
	}
	out, err := l.Run.Run(ctx, "nft", "-j", "list", "tables")
	if err != nil {
		return nil, err
	}
	return parseNftTables(out), nil
}

// parseNftTables reads `nft -j list tables`: [family, name] pairs.
func parseNftTables(data []byte) [][2]string {
	var doc struct {
		Nftables []struct {
			Table *struct{ Family, Name string } `json:"table"`
		} `json:"nftables"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out [][2]string
	for _, o := range doc.Nftables {
		if o.Table != nil {
			out = append(out, [2]string{o.Table.Family, o.Table.Name})
		}
	}
	return out
}

// iptablesTableNames are the tables iptables-nft creates.
var iptablesTableNames = map[string]bool{"filter": true, "nat": true, "mangle": true, "raw": true, "security": true}

// iptablesNftTables names the tables ("ip filter") iptables-nft dumps hold.
func iptablesNftTables(dumps []RulesetDump) map[string]bool {
	owned := map[string]bool{}
	for _, d := range dumps {
		if d.Backend != nf.BackendIptablesNft {
			continue
		}
		fam := "ip"
		if d.Family == 6 {
			fam = "ip6"
		}
		for _, line := range strings.Split(d.Data, "\n") {
			if strings.HasPrefix(line, "*") {
				owned[fam+" "+strings.TrimSpace(line[1:])] = true
			}
		}
	}
	return owned
}

// legacy dumps the x_tables tables that exist. It reads
// /proc/net/ip{,6}_tables_names first and only asks for those tables:
// `iptables-legacy-save -t nat` would create (register) a missing table.
func (l Live) legacy(ctx context.Context, b *Bundle, fam int) int {
	names, save := "net/ip_tables_names", "iptables-legacy-save"
	if fam == 6 {
		names, save = "net/ip6_tables_names", "ip6tables-legacy-save"
	}
	data, err := fs.ReadFile(l.Proc, names)
	if err != nil {
		if !isNotExist(err) {
			l.note(b, "iptables-legacy ipv%d: could not read /proc/%s (%v); legacy tables not read", fam, names, err)
		}
		return 0
	}
	tables := strings.Fields(string(data))
	var dump strings.Builder
	for _, t := range tables {
		out, err := l.Run.Run(ctx, save, "-t", t)
		if err != nil {
			l.note(b, "iptables-legacy ipv%d: %v", fam, err)
			continue
		}
		dump.Write(out)
	}
	if dump.Len() > 0 {
		b.Rulesets = append(b.Rulesets, RulesetDump{Name: fmt.Sprintf("iptables-legacy ipv%d", fam), Source: save + " -t " + strings.Join(tables, ",") + " (tables from /proc/" + names + ")",
			Format: FormatIptables, Backend: nf.BackendLegacy, Family: fam, Data: dump.String()})
	}
	return len(tables)
}

// iptablesNft dumps the iptables-nft tables (iptables-nft-save reads
// nf_tables and prints only the tables it finds).
// It reports whether the dump could be read.
func (l Live) iptablesNft(ctx context.Context, b *Bundle, fam int) (int, bool) {
	save := "iptables-nft-save"
	if fam == 6 {
		save = "ip6tables-nft-save"
	}
	out, err := l.Run.Run(ctx, save)
	if err != nil {
		l.note(b, "iptables-nft ipv%d: %v", fam, err)
		return 0, false
	}
	n := strings.Count(string(out), "\n*")
	if strings.HasPrefix(string(out), "*") {
		n++
	}
	if n > 0 {
		b.Rulesets = append(b.Rulesets, RulesetDump{Name: fmt.Sprintf("iptables-nft ipv%d", fam), Source: save,
			Format: FormatIptables, Backend: nf.BackendIptablesNft, Family: fam, Data: string(out)})
	}
	return n, true
}

func isNotExist(err error) bool { return err != nil && strings.Contains(err.Error(), "not exist") }

// network reads interfaces (netlink) and routes (/proc).
func (l Live) network(b *Bundle) {
	ifs, err := l.Net.Interfaces()
	if err != nil {
		l.note(b, "interfaces: %v", err)
	}
	b.Interfaces = append(b.Interfaces, ifs...)
	l.localnet(b)
	if data, err := fs.ReadFile(l.Proc, "net/route"); err == nil {
		b.Routes = append(b.Routes, ParseRoutes4(data)...)
	} else {
		l.note(b, "routes: %v", err)
	}
	if data, err := fs.ReadFile(l.Proc, "net/ipv6_route"); err == nil {
		b.Routes = append(b.Routes, ParseRoutes6(data)...)
	}
}

// sockets reads the socket tables and the processes holding them.
func (l Live) sockets(b *Bundle) {
	for _, n := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		data, err := fs.ReadFile(l.Proc, "net/"+n)
		if err != nil {
			if !isNotExist(err) {
				l.note(b, "sockets: %v", err)
			}
			continue
		}
		b.ProcNet = append(b.ProcNet, ProcFile{Name: n, Source: "/proc/net/" + n, Data: string(data)})
	}
	procs, notes := ReadProcesses(l.Proc)
	b.Processes = append(b.Processes, procs...)
	b.Notes = append(b.Notes, notes...)
	b.HostNetNS, _ = fs.ReadLink(l.Proc, "self/ns/net")
}

// ParseRoutes4 reads /proc/net/route (fib_route_seq_show: Iface,
// Destination, Gateway, Flags, ..., Mask as little-endian hex words).
// RTF_REJECT routes (unreachable, blackhole, prohibit) are marked.
func ParseRoutes4(data []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 0; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if n == 0 || len(f) < 8 {
			continue
		}
		dst, err1 := leAddr4(f[1])
		mask, err2 := leAddr4(f[7])
		flags, err3 := strconv.ParseUint(f[3], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		bits := 0
		for _, x := range mask.As4() {
			for ; x != 0; x <<= 1 {
				bits++
			}
		}
		r := Route{Prefix: netip.PrefixFrom(dst, bits).String(), Iface: f[0], Type: "unicast"}
		if flags&0x0200 != 0 || f[0] == "*" {
			r.Type, r.Iface = "unreachable", ""
		}
		out = append(out, r)
	}
	return out
}

func leAddr4(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, fmt.Errorf("parse route address %q", s)
	}
	return netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}), nil
}

// ParseRoutes6 reads /proc/net/ipv6_route (dst, dst_len, src, src_len,
// next hop, metric, refcnt, use, flags, device), main-table routes only
// as the kernel lists them.
func ParseRoutes6(data []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		raw, err := hex.DecodeString(f[0])
		bits, err2 := strconv.ParseUint(f[1], 16, 8)
		flags, err3 := strconv.ParseUint(f[8], 16, 32)
		if err != nil || err2 != nil || err3 != nil || len(raw) != 16 {
			continue
		}
		a := netip.AddrFrom16([16]byte(raw))
		if flags&0x80000000 != 0 || a.IsMulticast() || a.IsLinkLocalUnicast() && bits == 128 {
			continue // RTF_LOCAL and multicast routes live in other tables
		}
		r := Route{Prefix: netip.PrefixFrom(a, int(bits)).String(), Iface: f[9], Type: "unicast"}
		if flags&0x0200 != 0 {
			r.Type, r.Iface = "unreachable", ""
		}
		out = append(out, r)
	}
	return out
}
