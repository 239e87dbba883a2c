package kubeproxy

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"
	"strings"
)

// PortName is kube-proxy's ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port. It is
// the text of every per-service comment and the input of the chain-name hashes.
func PortName(namespace, name, port string) string {
	if port == "" {
		return namespace + "/" + name
	}
	return namespace + "/" + name + ":" + port
}

// ChainHash is the 16-character suffix of KUBE-SVC/SVL/EXT/FW chains: the first 16 characters of
// base32(sha256(portName + protocol)), protocol lower-case (kube-proxy portProtoHash). For KUBE-SEP chains
// pass the endpoint as the third part ("ip:port").
func ChainHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "")))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// NFTName is kube-proxy nftables mode's hashAndTruncate: the first 8 characters of base32(sha256(name)), a dash,
// then name, cut to 240 characters with "..." (knftables.NameLengthMax 256 minus the 16-character prefix room).
func NFTName(name string) string {
	sum := sha256.Sum256([]byte(name))
	out := base32.StdEncoding.EncodeToString(sum[:])[:8] + "-" + name
	const maxLen = 256 - 16
	if len(out) > maxLen {
		out = out[:maxLen-3] + "..."
	}
	return out
}

// nftServiceBase is servicePortChainNameBase: "ns/name/proto/port" hashed.
func nftServiceBase(ns, name, proto, port string) string {
	return NFTName(ns + "/" + name + "/" + proto + "/" + port)
}

// nftEndpointBase is servicePortEndpointChainNameBase: "ns/name/proto/port__ip/port" hashed, with the colons of
// an IPv6 address replaced by dots.
func nftEndpointBase(ns, name, proto, port string, ep netip.AddrPort) string {
	ip := strings.ReplaceAll(ep.Addr().String(), ":", ".")
	return NFTName(ns + "/" + name + "/" + proto + "/" + port + "__" + ip + "/" + strconv.Itoa(int(ep.Port())))
}

// svcPort is one (Service, port) pair with everything kube-proxy derives from it.
type svcPort struct {
	svc   *Service
	port  Port
	proto string // lower-case
	name  string // PortName
	hash  string // ChainHash(name, proto)
	eps   []epInfo
	nbase string // nftables chain base
}

// epInfo is one endpoint of a svcPort.
type epInfo struct {
	addr  netip.AddrPort
	str   string // "ip:port" (brackets for IPv6)
	local bool
	sep   string // KUBE-SEP-… chain
	nbase string // nftables endpoint chain base
}

func (p *svcPort) svcChain() string { return "KUBE-SVC-" + p.hash }
func (p *svcPort) svlChain() string { return "KUBE-SVL-" + p.hash }
func (p *svcPort) extChain() string { return "KUBE-EXT-" + p.hash }
func (p *svcPort) fwChain() string  { return "KUBE-FW-" + p.hash }
