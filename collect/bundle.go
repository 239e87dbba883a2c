package collect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/exposure"
	"github.com/exposure-audit/exposure/iptables"
	"github.com/exposure-audit/exposure/kube"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// BundleFormatVersion is the version of the snapshot bundle format this
// build writes; it reads this version and refuses newer ones.
const BundleFormatVersion = 1

// BundleKind marks a snapshot bundle document.
const BundleKind = "exposure-snapshot"

// Bundle is a snapshot of everything the exposure analysis reads from a
// node, with where each input came from. It is one JSON document (gzip'd
// when the file name ends in .gz); docs/exposure.md describes the format.
type Bundle struct {
	FormatVersion int    `json:"format_version"`
	Kind          string `json:"kind"`
	// CreatedAt (RFC 3339), Host and Tool say when, where and by what.
	CreatedAt string `json:"created_at"`
	Host      string `json:"host"`
	Tool      string `json:"tool"`
	// Rulesets are the raw dumps, one per backend and family.
	Rulesets []RulesetDump `json:"rulesets"`
	// Interfaces and Routes (main table) of the node.
	Interfaces []Interface `json:"interfaces"`
	Routes     []Route     `json:"routes"`
	// ProcNet holds the raw /proc/net socket tables (tcp, tcp6, udp, udp6,
	// raw, raw6).
	ProcNet []ProcFile `json:"proc_net"`
	// Processes holding sockets, and the host's network namespace link.
	Processes []Process `json:"processes"`
	HostNetNS string    `json:"host_netns,omitempty"`
	// Provenance says how each section was read ("interfaces": "netlink").
	Provenance map[string]string `json:"provenance"`
	// Notes say what could not be read (permissions, missing tools) and
	// what the reader should know (legacy and nft tables both in use).
	Notes []string `json:"notes"`
	// NodeFiles is what the node checks read from the host filesystem
	// (kubelet invocation, config files and drop-ins, systemd units), so
	// that `exposure check --snapshot` can replay them; absent in bundles
	// made before it existed.
	NodeFiles *hostfs.Capture `json:"node_files,omitempty"`
	// K8sObjects are the cluster's Nodes, Pods, Services and
	// EndpointSlices as listed from the API server when the snapshot was
	// taken (Provenance["k8s_objects"] says from where), so that `exposure
	// audit --snapshot` can join them; absent when the API could not be
	// reached and in bundles made before it existed (format_version 1
	// either way: readers ignore members they do not know).
	K8sObjects *kube.Inventory `json:"k8s_objects,omitempty"`
	// RouteLocalnet is net.ipv4.conf.{all,IFACE}.route_localnet (0 or 1)
	// by "all" and interface name, as /proc/sys showed it; a name absent
	// is unknown, and so is everything in bundles made before it existed
	// (format_version 1 either way).
	RouteLocalnet map[string]int `json:"route_localnet,omitempty"`
	// AcceptLocal is net.ipv4.conf.{all,IFACE}.accept_local (0 or 1),
	// keyed and read as RouteLocalnet; absent (unknown, taken as the
	// kernel default 0) in bundles made before it existed.
	AcceptLocal map[string]int `json:"accept_local,omitempty"`
	// RPFilter is net.ipv4.conf.{all,IFACE}.rp_filter (0 off, 1 strict,
	// 2 loose), keyed and read as RouteLocalnet; absent (unknown: no
	// reverse-path drop, with an assumption where one would happen) in
	// bundles made before it existed.
	RPFilter map[string]int `json:"rp_filter,omitempty"`
}

// RulesetDump is one raw ruleset dump.
type RulesetDump struct {
	// Name is a short label ("iptables-nft ipv4").
	Name string `json:"name"`
	// Source is the command or file it came from.
	Source string `json:"source"`
	// Format: iptables (iptables-save text), nft-json, nft.
	Format RuleFormat `json:"format"`
	// Backend of iptables dumps: iptables-legacy or iptables-nft.
	Backend nf.Backend `json:"backend,omitempty"`
	// Family of iptables dumps: 4 or 6.
	Family int    `json:"family,omitempty"`
	Data   string `json:"data"`
}

// ProcFile is the raw content of one /proc file.
type ProcFile struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Data   string `json:"data"`
}

// WriteBundle encodes b as indented JSON, gzip'd when zip is set.
func WriteBundle(w io.Writer, b *Bundle, zip bool) error {
	if zip {
		zw := gzip.NewWriter(w)
		if err := WriteBundle(zw, b, false); err != nil {
			return err
		}
		return zw.Close()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// ReadBundle decodes a bundle (plain or gzip'd JSON) and checks its
// format version.
func ReadBundle(data []byte) (*Bundle, error) {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	switch {
	case b.Kind != BundleKind:
		return nil, fmt.Errorf("read bundle: kind %q is not %q", b.Kind, BundleKind)
	case b.FormatVersion < 1 || b.FormatVersion > BundleFormatVersion:
		return nil, fmt.Errorf("read bundle: %w (format_version %d, this build reads 1..%d)", errVersion, b.FormatVersion, BundleFormatVersion)
	}
	return &b, nil
}

var errVersion = errors.New("unsupported bundle version")

// Rules parses and merges the bundle's rulesets. Tables that iptables-nft
// wrote appear in both `iptables-nft-save` and `nft -j list ruleset`; the
// iptables-nft reading is kept and the nft copy left out before parsing
// (its xt expressions are iptables', not nft's).
func (b *Bundle) Rules(l Loader) (*nf.Ruleset, error) {
	rs := &nf.Ruleset{}
	for _, d := range b.Rulesets {
		if d.Format != FormatIptables {
			continue
		}
		part, err := d.parse(l)
		if err != nil {
			return nil, err
		}
		Merge(rs, part)
	}
	for _, d := range b.Rulesets {
		if d.Format == FormatIptables {
			continue
		}
		if d.Format == FormatNftJSON {
			d.Data = withoutTables(d.Data, rs.Tables)
		}
		part, err := d.parse(l)
		if err != nil {
			return nil, err
		}
		Merge(rs, part)
	}
	if err := nf.Validate(rs); err != nil {
		return nil, fmt.Errorf("load bundle rules: %w", err)
	}
	return rs, nil
}

// withoutTables drops from an `nft -j list ruleset` document every object
// of a table iptables-nft owns (same family and name as a parsed
// iptables-nft table). A document it cannot read is returned unchanged.
func withoutTables(data string, ipt []*nf.Table) string {
	owned := map[string]bool{}
	for _, t := range ipt {
		if t.Backend == nf.BackendIptablesNft {
			owned[string(t.Family)+" "+t.Name] = true
		}
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if len(owned) == 0 || json.Unmarshal([]byte(data), &doc) != nil {
		return data
	}
	kept := doc.Nftables[:0]
	for _, obj := range doc.Nftables {
		if !ownedObject(obj, owned) {
			kept = append(kept, obj)
		}
	}
	out, err := json.Marshal(map[string]any{"nftables": kept})
	if err != nil {
		return data
	}
	return string(out)
}

func ownedObject(obj map[string]json.RawMessage, owned map[string]bool) bool {
	for kind, raw := range obj {
		var head struct{ Family, Table, Name string }
		if json.Unmarshal(raw, &head) != nil {
			continue
		}
		name := head.Table
		if kind == "table" {
			name = head.Name
		}
		if owned[head.Family+" "+name] {
			return true
		}
	}
	return false
}

func (d RulesetDump) parse(l Loader) (*nf.Ruleset, error) {
	if d.Format != FormatIptables {
		return l.Parse([]byte(d.Data), d.Name)
	}
	fam := nf.IPv4
	if d.Family == 6 {
		fam = nf.IPv6
	}
	return iptables.Parse([]byte(d.Data), iptables.Options{File: d.Name, Family: fam, Backend: d.Backend})
}

// Input turns the bundle into the exposure analysis input.
func (b *Bundle) Input(l Loader) (exposure.Input, error) {
	rs, err := b.Rules(l)
	if err != nil {
		return exposure.Input{}, err
	}
	var socks []Socket
	for _, f := range b.ProcNet {
		s, err := ParseProcNet([]byte(f.Data), f.Name)
		if err != nil {
			return exposure.Input{}, fmt.Errorf("load bundle sockets: %w", err)
		}
		socks = append(socks, s...)
	}
	env := Env(b.Interfaces, b.Routes)
	env.RouteLocalnet = LocalnetEnv(b.RouteLocalnet)
	env.AcceptLocal = LocalnetEnv(b.AcceptLocal)
	env.RPFilter = RPFilterEnv(b.RPFilter)
	return exposure.Input{Ruleset: rs, Env: env, Listeners: Listeners(socks, b.Processes, b.HostNetNS)}, nil
}
