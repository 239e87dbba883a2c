package netns

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// Backend selects which iptables flavour loads and reads a ruleset.
type Backend int

// The two iptables backends: x_tables (iptables-legacy) and nf_tables (iptables-nft).
const (
	Legacy Backend = iota + 1
	NFT
)

// String returns "legacy" or "nft", the suffix of the tool names.
func (b Backend) String() string {
	if b == NFT {
		return "nft"
	}
	return "legacy"
}

// Tables lists the iptables tables in the order iptables-save prints them.
var Tables = []string{"raw", "mangle", "nat", "filter", "security"}

// tool returns the executable name, e.g. ip6tables-nft-restore for (NFT, true, "restore").
func (b Backend) tool(v6 bool, verb string) string {
	name := "iptables"
	if v6 {
		name = "ip6tables"
	}
	name += "-" + b.String()
	if verb != "" {
		name += "-" + verb
	}
	return name
}

// Run runs argv inside namespace ns (entered with nsenter, which unlike
// "ip netns exec" leaves /sys alone) with stdin, and returns its stdout. A failure
// returns an error quoting stderr.
func (l *Lab) Run(ns, stdin string, argv ...string) (string, error) {
	args := append([]string{"--net=/run/netns/" + ns, "--"}, argv...)
	cmd := exec.Command("nsenter", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("run %s in %s: %w: %s", strings.Join(argv, " "), ns, err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// RestoreIptables loads text (iptables-save format) into the node with
// iptables-{legacy,nft}-restore or the ip6tables variant. As without --noflush,
// every table named in text is flushed first; counters in text are ignored.
func (l *Lab) RestoreIptables(b Backend, v6 bool, text string) error {
	argv := []string{b.tool(v6, "restore")}
	if b == Legacy {
		argv = append(argv, "-w", "30")
	}
	if _, err := l.Run(l.NodeNS, text, argv...); err != nil {
		return fmt.Errorf("restore iptables: %w", err)
	}
	return nil
}

// SaveIptables dumps the node's tables with counters ("-c"). For the legacy backend
// it reads only the tables listed in /proc/net/ip{,6}_tables_names, because
// "iptables-legacy-save -t T" creates T when it is missing.
func (l *Lab) SaveIptables(b Backend, v6 bool) (string, error) {
	if b == NFT {
		out, err := l.Run(l.NodeNS, "", b.tool(v6, "save"), "-c")
		if err != nil {
			return "", fmt.Errorf("save iptables: %w", err)
		}
		return out, nil
	}
	tables, err := l.legacyTables(v6)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, t := range tables {
		out, err := l.Run(l.NodeNS, "", b.tool(v6, "save"), "-c", "-t", t)
		if err != nil {
			return "", fmt.Errorf("save iptables: %w", err)
		}
		sb.WriteString(out)
	}
	return sb.String(), nil
}

// legacyTables returns the x_tables tables present in the node, in Tables order.
func (l *Lab) legacyTables(v6 bool) ([]string, error) {
	file := "/proc/net/ip_tables_names"
	if v6 {
		file = "/proc/net/ip6_tables_names"
	}
	out, err := l.Run(l.NodeNS, "", "cat", file)
	if err != nil {
		// The file exists only once the ip(6)_tables module is loaded.
		return nil, nil
	}
	present := map[string]bool{}
	for _, f := range strings.Fields(out) {
		present[f] = true
	}
	var tables []string
	for _, t := range Tables {
		if present[t] {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

// ZeroCounters zeroes the rule and policy counters of every table of the backend
// present in the node ("iptables -t T -Z").
func (l *Lab) ZeroCounters(b Backend, v6 bool) error {
	tables := Tables
	if b == Legacy {
		var err error
		if tables, err = l.legacyTables(v6); err != nil {
			return err
		}
	} else {
		tables = l.nftIptablesTables(v6)
	}
	for _, t := range tables {
		argv := []string{b.tool(v6, ""), "-t", t, "-Z"}
		if b == Legacy {
			argv = append(argv, "-w", "30")
		}
		if _, err := l.Run(l.NodeNS, "", argv...); err != nil {
			return fmt.Errorf("zero counters: %w", err)
		}
	}
	return nil
}

// nftIptablesTables returns the iptables-nft tables present in the node, read
// from "nft list tables" so that no table is created by asking.
func (l *Lab) nftIptablesTables(v6 bool) []string {
	out, _ := l.Run(l.NodeNS, "", "nft", "list", "tables")
	family := "ip"
	if v6 {
		family = "ip6"
	}
	var tables []string
	for _, t := range Tables {
		if strings.Contains("\n"+out, "\ntable "+family+" "+t+"\n") {
			tables = append(tables, t)
		}
	}
	return tables
}

// LoadNft loads an nft script into the node ("nft -f -").
func (l *Lab) LoadNft(text string) error { return l.LoadNftIn(l.NodeNS, text) }

// LoadNftIn loads an nft script into namespace ns ("nft -f -").
func (l *Lab) LoadNftIn(ns, text string) error {
	if _, err := l.Run(ns, text, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("load nft: %w", err)
	}
	return nil
}

// ListNftJSON returns the node's whole nftables ruleset as "nft -j list ruleset"
// prints it, counters included (iptables-nft tables appear there too).
func (l *Lab) ListNftJSON() (string, error) {
	out, err := l.Run(l.NodeNS, "", "nft", "-j", "list", "ruleset")
	if err != nil {
		return "", fmt.Errorf("list nft ruleset: %w", err)
	}
	return out, nil
}

// FlushConntrack deletes every conntrack entry in the node ("conntrack -F", both families).
func (l *Lab) FlushConntrack() error {
	for _, f := range []string{"ipv4", "ipv6"} {
		if _, err := l.Run(l.NodeNS, "", "conntrack", "-F", "-f", f); err != nil {
			return fmt.Errorf("flush conntrack: %w", err)
		}
	}
	return nil
}

// ConntrackList returns the node's conntrack entries, IPv4 then IPv6, one per line
// as "conntrack -L" prints them.
func (l *Lab) ConntrackList() (string, error) {
	var sb strings.Builder
	for _, f := range []string{"ipv4", "ipv6"} {
		out, err := l.Run(l.NodeNS, "", "conntrack", "-L", "-f", f)
		if err != nil {
			return "", fmt.Errorf("list conntrack: %w", err)
		}
		sb.WriteString(out)
	}
	return sb.String(), nil
}

// Reset returns the node to an empty firewall: it flushes the nftables ruleset
// (iptables-nft tables included), restores every present legacy table to empty
// built-in chains with ACCEPT policies (x_tables tables cannot be unregistered),
// and flushes conntrack. Use it to reuse one lab for many rulesets.
func (l *Lab) Reset() error {
	if _, err := l.Run(l.NodeNS, "", "nft", "flush", "ruleset"); err != nil {
		return fmt.Errorf("reset node: %w", err)
	}
	for _, v6 := range []bool{false, true} {
		tables, err := l.legacyTables(v6)
		if err != nil {
			return err
		}
		if len(tables) == 0 {
			continue
		}
		if err := l.RestoreIptables(Legacy, v6, EmptyTables(tables...)); err != nil {
			return fmt.Errorf("reset node: %w", err)
		}
	}
	return l.FlushConntrack()
}

// BuiltinChains lists the built-in chains of each iptables table, in hook order.
var BuiltinChains = map[string][]string{
	"raw":      {"PREROUTING", "OUTPUT"},
	"mangle":   {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"nat":      {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"filter":   {"INPUT", "FORWARD", "OUTPUT"},
	"security": {"INPUT", "FORWARD", "OUTPUT"},
}

// EmptyTables returns an iptables-restore text holding the given tables with their
// built-in chains, ACCEPT policies and no rules.
func EmptyTables(tables ...string) string {
	var sb strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&sb, "*%s\n", t)
		for _, c := range BuiltinChains[t] {
			fmt.Fprintf(&sb, ":%s ACCEPT [0:0]\n", c)
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String()
}
