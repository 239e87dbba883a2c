package nftables

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/exposure-audit/exposure/internal/netns"
)

// randNft generates random but loadable nftables rulesets for the kernel
// differential test: tables of the ip, ip6 and inet families, base chains
// of filter and nat type on every hook at random (often equal)
// priorities, regular chains reached by jump and goto, named interval and
// concatenated sets, verdict maps, numgen forks, marks, NAT, and a
// `counter` on every rule placed just before its verdict, plus a final
// counter-only rule in every chain, so that the kernel's counters show the
// path a packet took.
type randNft struct {
	r      *rand.Rand
	b      strings.Builder
	fams   map[int]bool
	tables int
}

// regular is a regular chain and where it can be reached from.
type regular struct {
	name string
	hook string
	nat  bool
}

// baseSpec is one base chain to generate.
type baseSpec struct {
	name, hook, typ string
	prio            int
}

func (g *randNft) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *randNft) chance(p float64) bool { return g.r.Float64() < p }

// generate returns the ruleset text.
func (g *randNft) generate() string {
	g.fams = map[int]bool{}
	g.b.WriteString("table inet ctenable {\n\tchain c {\n\t\tct state new counter\n\t}\n}\n")
	g.tables = 1 + g.r.IntN(3)
	for i := range g.tables {
		g.table(i)
	}
	return g.b.String()
}

func (g *randNft) table(i int) {
	fam := g.pick("ip", "ip6", "inet", "inet")
	switch fam {
	case "ip":
		g.fams[4] = true
	case "ip6":
		g.fams[6] = true
	default:
		g.fams[4], g.fams[6] = true, true
	}
	fmt.Fprintf(&g.b, "table %s t%d {\n", fam, i)
	g.sets(fam)
	var bases []baseSpec
	for j := range 1 + g.r.IntN(4) {
		bases = append(bases, g.baseSpec(j))
	}
	var regs []regular
	for j := range g.r.IntN(4) {
		b := bases[g.r.IntN(len(bases))]
		regs = append(regs, regular{name: fmt.Sprintf("r%d", j), hook: b.hook, nat: b.typ == "nat"})
	}
	for _, b := range bases {
		g.chain(fam, b.name, fmt.Sprintf("type %s hook %s priority %d; policy %s;", b.typ, b.hook, b.prio, g.policy(b)), regular{hook: b.hook, nat: b.typ == "nat"}, regs, -1)
	}
	for j, rc := range regs {
		g.chain(fam, rc.name, "", rc, regs, j)
	}
	g.b.WriteString("}\n")
}

func (g *randNft) policy(b baseSpec) string {
	if b.typ == "filter" && g.chance(0.2) {
		return "drop"
	}
	return "accept"
}

// Priorities avoid the conntrack hook (-200) and, for filter chains, the
// NAT hooks (-100, 100), whose order against a chain of equal priority
// depends on when conntrack and NAT registered (not in the dump).
var filterPrios = []int{-300, -150, -110, -110, -90, 0, 0, 10, 50, 200}

func (g *randNft) baseSpec(j int) baseSpec {
	b := baseSpec{name: fmt.Sprintf("b%d", j), typ: "filter"}
	b.hook = g.pick("prerouting", "input", "forward", "output", "postrouting")
	b.prio = filterPrios[g.r.IntN(len(filterPrios))]
	if g.chance(0.35) && b.hook != "forward" {
		b.typ = "nat"
		b.prio = []int{-100, -110, -90, -100}[g.r.IntN(4)]
		if b.hook == "postrouting" || b.hook == "input" {
			b.prio = []int{100, 110, 90, 100}[g.r.IntN(4)]
		}
	}
	return b
}

func (g *randNft) sets(fam string) {
	a4 := "198.18.0.1, 198.19.0.0/16, 203.0.113.2, 198.51.100.1"
	a6 := "2001:db8:ff00::1, 2001:db8:ff00:1::/64, 2001:db8:2::2, 2001:db8:1::1"
	if fam != "ip6" {
		fmt.Fprintf(&g.b, "\tset sa4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { %s }\n\t}\n", a4)
		fmt.Fprintf(&g.b, "\tset sc4 {\n\t\ttype ipv4_addr . inet_service\n\t\telements = { 198.51.100.1 . 22, 203.0.113.2 . 80, 192.0.2.129 . 8080 }\n\t}\n")
	}
	if fam != "ip" {
		fmt.Fprintf(&g.b, "\tset sa6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { %s }\n\t}\n", a6)
	}
	g.b.WriteString("\tset sp {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 22, 53, 8000-8100 }\n\t}\n")
	g.b.WriteString("\tmap mv {\n\t\ttype inet_proto . inet_service : verdict\n\t\telements = { tcp . 22 : accept, udp . 53 : drop, tcp . 443 : continue }\n\t}\n")
}

// chain writes a chain; self is the index of a regular chain (it may
// only jump to later ones, so there are no loops), -1 for a base chain.
func (g *randNft) chain(fam, name, spec string, home regular, regs []regular, self int) {
	fmt.Fprintf(&g.b, "\tchain %s {\n", name)
	if spec != "" {
		fmt.Fprintf(&g.b, "\t\t%s\n", spec)
	}
	for range g.r.IntN(6) {
		fmt.Fprintf(&g.b, "\t\t%s\n", g.rule(fam, home, regs, self))
	}
	g.b.WriteString("\t\tcounter\n\t}\n")
}

// rule writes one rule: matches, maybe a statement, a counter, a verdict.
func (g *randNft) rule(fam string, home regular, regs []regular, self int) string {
	var parts []string
	proto, ipf := "", ""
	for range g.r.IntN(4) {
		parts = append(parts, g.match(fam, home.hook, &proto, &ipf))
	}
	if g.chance(0.15) {
		parts = append(parts, g.pick("meta mark set meta mark | 0x10", "meta mark set 0x2", "ct mark set 0x5", "ct mark set meta mark"))
	}
	if g.chance(0.1) && !home.nat && (home.hook == "prerouting" || home.hook == "output") {
		parts = append(parts, "notrack")
	}
	if g.chance(0.07) {
		parts = append(parts, g.numgenVMap(regs, home, self))
		return strings.Join(parts, " ")
	}
	if g.chance(0.05) && !home.nat && proto != "i" && proto != "j" {
		return strings.Join(append(parts, "meta l4proto . th dport vmap @mv"), " ")
	}
	v := g.verdict(fam, home, regs, self)
	for strings.HasPrefix(v, "meta l4proto tcp ") && proto != "" && proto != "t" {
		v = g.verdict(fam, home, regs, self)
	}
	if ipf == "4" && strings.Contains(v, "ip6 ") || ipf == "6" && (strings.Contains(v, "ip to") || strings.Contains(v, "203.0.113")) {
		v = ""
	}
	if rest, ok := strings.CutPrefix(v, "meta l4proto tcp "); ok {
		parts, v = append(parts, "meta l4proto tcp"), rest
	}
	parts = append(parts, "counter")
	if v != "" {
		parts = append(parts, v)
	}
	return strings.Join(parts, " ")
}

// later returns the regular chains after self that share its home.
func later(regs []regular, home regular, self int) []string {
	var out []string
	for j, rc := range regs {
		if j > self && rc.hook == home.hook && rc.nat == home.nat {
			out = append(out, rc.name)
		}
	}
	return out
}

func (g *randNft) numgenVMap(regs []regular, home regular, self int) string {
	targets := append(later(regs, home, self), "accept", "drop", "continue")
	n := 2 + g.r.IntN(2)
	var els []string
	for i := range n {
		t := targets[g.r.IntN(len(targets))]
		if t[0] == 'r' {
			t = g.pick("jump ", "goto ") + t
		}
		els = append(els, fmt.Sprintf("%d : %s", i, t))
	}
	return fmt.Sprintf("counter numgen random mod %d vmap { %s }", n, strings.Join(els, ", "))
}

func (g *randNft) verdict(fam string, home regular, regs []regular, self int) string {
	if home.nat && g.chance(0.5) {
		return g.natStmt(fam, home.hook)
	}
	if ts := later(regs, home, self); len(ts) > 0 && g.chance(0.3) {
		return g.pick("jump ", "goto ") + ts[g.r.IntN(len(ts))]
	}
	vs := []string{"", "", "accept", "accept", "drop", "continue"}
	if self >= 0 {
		vs = append(vs, "return")
	}
	if home.hook != "postrouting" {
		vs = append(vs, "reject", "meta l4proto tcp reject with tcp reset")
		if fam == "inet" {
			vs = append(vs, "reject with icmpx admin-prohibited")
		}
	}
	return vs[g.r.IntN(len(vs))]
}

// natStmt returns a NAT statement valid on hook.
func (g *randNft) natStmt(fam, hook string) string {
	ip := "ip "
	if fam == "ip6" {
		ip = "ip6 "
	}
	if fam == "ip" || fam == "ip6" {
		ip = ""
	}
	addr, withPort := "203.0.113.2", "203.0.113.2:8080"
	if fam == "ip6" || fam == "inet" && g.chance(0.5) {
		addr, withPort = "2001:db8:2::2", "[2001:db8:2::2]:8080"
		ip = strings.Replace(ip, "ip ", "ip6 ", 1)
	}
	switch hook {
	case "prerouting", "output":
		return g.pick("dnat "+ip+"to "+addr, "meta l4proto tcp dnat "+ip+"to "+withPort, "meta l4proto tcp redirect to :2222", "redirect")
	case "postrouting":
		return g.pick("masquerade", "snat "+ip+"to "+addr)
	}
	return "snat " + ip + "to " + addr
}

// match returns one match for a table of family fam, compatible with
// the transport protocol (t, u, i for icmp, j for icmpv6, "" any) and the
// IP family ("4", "6", "") the rule already requires; it updates both.
func (g *randNft) match(fam, hook string, proto, ipf *string) string {
	type m struct{ text, proto, ipf string }
	ms := []m{
		{"tcp dport 22", "t", ""}, {"tcp dport { 22, 80 }", "t", ""}, {"tcp dport != 1-1024", "t", ""},
		{"tcp dport @sp", "t", ""}, {"udp dport 53", "u", ""}, {"th dport 8080", "q", ""}, {"tcp sport 40000", "t", ""},
		{"meta l4proto { tcp, udp }", "p", ""}, {"meta l4proto udp", "u", ""}, {"ct state new", "", ""},
		{"ct state established,related", "", ""}, {"ct state invalid", "", ""}, {"ct state { new, untracked }", "", ""},
		{"ct status dnat", "", ""}, {"ct mark 0x5", "", ""}, {"meta mark & 0x10 == 0x10", "", ""}, {"meta mark 0x2", "", ""},
		{"fib daddr type local", "", ""}, {"fib daddr type != local", "", ""}, {"fib daddr . iif type local", "", ""},
		{"meta pkttype host", "", ""}, {"tcp flags syn / syn,ack", "t", ""}, {"tcp flags & (syn | ack) == ack", "t", ""},
		{`iifname "n0"`, "", ""}, {`iifname != "n2"`, "", ""}, {`iifname "n*"`, "", ""}, {`oifname "n1"`, "", ""},
		{`oifname "lo"`, "", ""}, {`iif "lo"`, "", ""},
	}
	if fam != "ip6" {
		ms = append(ms, m{"ip saddr 198.18.0.1", "", "4"}, m{"ip saddr 198.18.0.0/24", "", "4"}, m{"ip saddr != 198.18.0.0/15", "", "4"},
			m{"ip daddr 203.0.113.2", "", "4"}, m{"ip daddr 198.51.100.1", "", "4"}, m{"ip daddr 192.0.2.128/25", "", "4"},
			m{"ip daddr @sa4", "", "4"}, m{"ip saddr @sa4", "", "4"}, m{"ip daddr . tcp dport @sc4", "t", "4"},
			m{"ip saddr . tcp dport { 198.18.0.1 . 80, 198.18.1.7 . 22 }", "t", "4"}, m{"ip ttl < 10", "", "4"},
			m{"ip protocol icmp", "i", "4"}, m{"icmp type echo-request", "i", "4"},
			m{"ip daddr 127.0.0.1", "", "4"})
	}
	if fam != "ip" {
		ms = append(ms, m{"ip6 saddr 2001:db8:ff00::1", "", "6"}, m{"ip6 saddr 2001:db8:ff00::/48", "", "6"},
			m{"ip6 daddr 2001:db8:2::2", "", "6"}, m{"ip6 daddr @sa6", "", "6"}, m{"ip6 daddr != 2001:db8:1::/64", "", "6"},
			m{"icmpv6 type echo-request", "j", "6"}, m{"ip6 nexthdr tcp", "t", "6"}, m{"ip6 hoplimit < 10", "", "6"},
			m{"ip6 daddr ::1", "", "6"})
	}
	if fam == "inet" {
		ms = append(ms, m{"meta nfproto ipv4", "", "4"}, m{"meta nfproto ipv6", "", "6"})
	}
	for {
		x := ms[g.r.IntN(len(ms))]
		if strings.Contains(x.text, ". iif") && (hook == "output" || hook == "postrouting") {
			continue // nft_fib_validate: iif only before routing
		}
		if compatible(x.proto, *proto) && (x.ipf == "" || *ipf == "" || x.ipf == *ipf) {
			if x.proto != "" && x.proto != "q" || *proto == "" {
				*proto = x.proto
			}
			if x.ipf != "" {
				*ipf = x.ipf
			}
			return x.text
		}
	}
}

// compatible: protocol tags agree (nft refuses `meta l4proto { tcp, udp }
// tcp dport 22` as conflicting, so "p" goes with nothing else).
func compatible(a, b string) bool {
	switch {
	case a == "" || b == "" || a == b:
		return true
	case a == "q" || b == "q":
		// th reads any transport header; after an icmp match nft lists
		// it as `icmp checksum`, which the model does not name.
		return a != "i" && a != "j" && b != "i" && b != "j"
	}
	return false
}

// probes returns packets aimed at the lab node for the families in use.
func (g *randNft) probes(n int) []netns.Probe {
	var out []netns.Probe
	var fams []int
	for f := range g.fams {
		fams = append(fams, f)
	}
	for range n {
		out = append(out, g.probe(fams[g.r.IntN(len(fams))]))
	}
	return out
}

var probePools = map[int]struct{ src, local, fwd, lo []string }{
	4: {src: []string{"198.18.0.1", "198.18.1.7", "198.19.0.9"}, local: []string{"198.51.100.1", "192.0.2.129", "203.0.113.1"},
		fwd: []string{"203.0.113.2"}, lo: []string{"127.0.0.1"}},
	6: {src: []string{"2001:db8:ff00::1", "2001:db8:ff00:1::7"}, local: []string{"2001:db8:1::1", "2001:db8:3::1", "2001:db8:2::1"},
		fwd: []string{"2001:db8:2::2"}, lo: []string{"::1"}},
}

func (g *randNft) probe(fam int) netns.Probe {
	pool := probePools[fam]
	p := netns.Probe{Src: netip.MustParseAddr(g.pick(pool.src...)), Via: g.pick("c0", "c2")}
	switch g.r.IntN(6) {
	case 0, 1, 2:
		p.Dst = netip.MustParseAddr(g.pick(pool.local...))
	case 3, 4:
		p.Dst = netip.MustParseAddr(g.pick(pool.fwd...))
	default:
		p.FromNode, p.Via = true, ""
		p.Dst = netip.MustParseAddr(g.pick(append(pool.fwd, pool.lo...)...))
	}
	g.transport(&p, fam)
	if g.chance(0.1) {
		p.TTL = 5
	}
	return p
}

func (g *randNft) transport(p *netns.Probe, fam int) {
	switch g.r.IntN(8) {
	case 0, 1, 2, 3:
		p.Proto, p.TCPFlags = netns.ProtoTCP, netns.SYN
		if g.chance(0.2) {
			p.TCPFlags = []byte{netns.ACK, netns.SYN | netns.ACK, netns.RST}[g.r.IntN(3)]
		}
	case 4, 5:
		p.Proto = netns.ProtoUDP
	default:
		p.Proto, p.ICMPType = netns.ProtoICMP, 8
		if fam == 6 {
			p.Proto, p.ICMPType = netns.ProtoICMPv6, 128
		}
		return
	}
	p.SPort = []uint16{40000, 1000, 53}[g.r.IntN(3)]
	p.DPort = []uint16{22, 53, 80, 443, 8080, 8050, 30080}[g.r.IntN(7)]
}
