package randrules

// Feature is one family of matches or targets the generator may use.
type Feature uint64

// The features. Each covers the matches or targets named; FeaturesAll has all.
const (
	FeatProto      Feature = 1 << iota // -p (with !)
	FeatAddr                           // -s / -d with CIDRs (with !)
	FeatIface                          // -i / -o with + wildcards (with !), only in hooks that have the device
	FeatPorts                          // tcp/udp --sport/--dport, single and ranges (with !)
	FeatTCPFlags                       // --tcp-flags, --syn
	FeatMultiport                      // multiport --dports/--sports/--ports
	FeatICMP                           // icmp --icmp-type, icmp6 --icmpv6-type
	FeatConntrack                      // conntrack --ctstate, state --state
	FeatAddrtype                       // addrtype --src-type/--dst-type, --limit-iface-in/out
	FeatMark                           // mark/connmark matches, MARK/CONNMARK targets
	FeatComment                        // comment with quotes and escapes
	FeatIPRange                        // iprange --src-range/--dst-range
	FeatLength                         // length
	FeatTTL                            // ttl (IPv4) / hl (IPv6)
	FeatPktType                        // pkttype
	FeatNth                            // statistic --mode nth: per-rule state, deterministic in probe order from load
	FeatNAT                            // DNAT, SNAT, MASQUERADE, REDIRECT
	FeatReject                         // REJECT with several --reject-with
	FeatLog                            // LOG, NFLOG
	FeatNotrack                        // NOTRACK, CT --notrack (raw)
	FeatTrace                          // TRACE (raw; logs nothing in a namespace)
	FeatGoto                           // -g goto
	FeatDropPolicy                     // DROP policies on built-in chains (not nat)
	featEnd
)

// FeaturesAll enables every feature.
const FeaturesAll = featEnd - 1

// Has reports whether f includes g.
func (f Feature) Has(g Feature) bool { return f&g != 0 }

// Config sets the size and content of a generated ruleset.
type Config struct {
	Family     int      // 4 (iptables) or 6 (ip6tables)
	Tables     []string // tables to generate; nil means raw, mangle, nat, filter, security
	Rules      int      // total rules, jumps included (approximate: at least one jump per user chain)
	UserChains int      // user chains per table
	MaxDepth   int      // deepest user-chain nesting (1..16; the kernel allows more, 6 is typical)
	Features   Feature  // what may appear
	Probes     int      // probes to generate
	// AimedShare is the share of probes aimed at a rule (the rest are random); 0 means 0.8.
	AimedShare float64
}

// DefaultConfig returns a mid-size IPv4 configuration with every feature.
func DefaultConfig() Config {
	return Config{Family: 4, Rules: 60, UserChains: 4, MaxDepth: 6, Features: FeaturesAll, Probes: 50}
}

// allTables is the iptables-save order of tables.
var allTables = []string{"raw", "mangle", "nat", "filter", "security"}

// normalized fills defaults and clamps out-of-range values.
func (c Config) normalized() Config {
	if c.Family != 6 {
		c.Family = 4
	}
	if len(c.Tables) == 0 {
		c.Tables = allTables
	}
	c.MaxDepth = min(max(c.MaxDepth, 1), 16)
	c.Rules = max(c.Rules, 0)
	c.UserChains = max(c.UserChains, 0)
	if c.AimedShare <= 0 {
		c.AimedShare = 0.8
	}
	return c
}
