package randrules

import (
	"fmt"
	"net/netip"
	"strings"
)

// targetChoice is one target a chain may use and its weight.
type targetChoice struct {
	name string
	w    int
}

// targetChoices lists the targets allowed in chain c: by table, by the hooks c is
// reachable from (the kernel refuses DNAT outside PREROUTING/OUTPUT, SNAT outside
// INPUT/POSTROUTING, MASQUERADE outside POSTROUTING, REJECT outside
// INPUT/FORWARD/OUTPUT), and by the enabled features. iptables refuses DROP in nat.
func (b *rb) targetChoices() []targetChoice {
	f, h, t := b.g.cfg.Features, b.c.hooks, b.c.table
	out := []targetChoice{{"", 40}, {"ACCEPT", 5}, {"RETURN", 5}}
	add := func(ok bool, name string, w int) {
		if ok {
			out = append(out, targetChoice{name, w})
		}
	}
	add(t != "nat", "DROP", 4)
	add(f.Has(FeatLog), "LOG", 4)
	add(f.Has(FeatLog), "NFLOG", 3)
	add(t == "filter" && f.Has(FeatReject), "REJECT", 5)
	add(t == "mangle" && f.Has(FeatMark), "MARK", 10)
	add(t == "mangle" && f.Has(FeatMark), "CONNMARK", 5)
	add(t == "raw" && f.Has(FeatNotrack), "NOTRACK", 3)
	add(t == "raw" && f.Has(FeatNotrack), "CT", 3)
	add(t == "raw" && f.Has(FeatTrace), "TRACE", 2)
	nat := t == "nat" && f.Has(FeatNAT)
	add(nat && h.within(hPre|hOut), "DNAT", 10)
	add(nat && h.within(hPre|hOut), "REDIRECT", 4)
	add(nat && h.within(hIn|hPost), "SNAT", 8)
	add(nat && h.within(hPost), "MASQUERADE", 6)
	return out
}

// target returns the -j/-g part of rl (empty for a counter-only rule).
func (b *rb) target(rl *Rule) string {
	if rl.Jump != "" {
		if rl.Goto {
			return "-g " + rl.Jump
		}
		return "-j " + rl.Jump
	}
	if len(b.mods) == 0 && len(b.leading()) == 0 && b.g.r.IntN(10) < 7 {
		return "" // a match-all verdict would hide the rest of the chain
	}
	cs := b.targetChoices()
	total := 0
	for _, c := range cs {
		total += c.w
	}
	n := b.g.r.IntN(total)
	for _, c := range cs {
		if n -= c.w; n < 0 {
			return b.targetText(c.name)
		}
	}
	return ""
}

// targetText renders target name with random valid options.
func (b *rb) targetText(name string) string {
	switch name {
	case "":
		return ""
	case "REJECT":
		return "-j REJECT --reject-with " + b.rejectWith()
	case "LOG":
		return b.logTarget()
	case "NFLOG":
		return fmt.Sprintf("-j NFLOG --nflog-group %d --nflog-prefix %q", b.g.r.IntN(100), "nf"+fmt.Sprint(b.g.r.IntN(9)))
	case "MARK":
		return b.markTarget()
	case "CONNMARK":
		return b.connmarkTarget()
	case "CT":
		return "-j CT --notrack"
	case "DNAT", "SNAT", "REDIRECT", "MASQUERADE":
		return b.natTarget(name)
	}
	return "-j " + name
}

var (
	reject4 = []string{"icmp-net-unreachable", "icmp-host-unreachable", "icmp-port-unreachable",
		"icmp-proto-unreachable", "icmp-net-prohibited", "icmp-host-prohibited", "icmp-admin-prohibited",
		"net-unreach", "host-unreach", "port-unreach", "admin-prohib"}
	reject6 = []string{"icmp6-no-route", "no-route", "icmp6-adm-prohibited", "adm-prohibited",
		"icmp6-addr-unreachable", "addr-unreach", "icmp6-port-unreachable", "port-unreach",
		"icmp6-policy-fail", "icmp6-reject-route"}
)

// rejectWith returns a --reject-with type; tcp-reset only for -p tcp.
func (b *rb) rejectWith() string {
	if b.protoIs(6) && b.g.r.IntN(3) == 0 {
		return "tcp-reset"
	}
	if b.fam == 6 {
		return reject6[b.g.r.IntN(len(reject6))]
	}
	return reject4[b.g.r.IntN(len(reject4))]
}

// logTarget returns -j LOG with some options.
func (b *rb) logTarget() string {
	r := b.g.r
	s := "-j LOG"
	if r.IntN(2) == 0 {
		s += fmt.Sprintf(" --log-prefix %s", []string{`"IN: "`, `"drop "`, `"x"`, `"q\"uote "`}[r.IntN(4)])
	}
	if r.IntN(2) == 0 {
		s += fmt.Sprintf(" --log-level %d", r.IntN(8))
	}
	if r.IntN(4) == 0 {
		s += " --log-tcp-options --log-ip-options"
	}
	return s
}

// markTarget returns -j MARK with one of its operations.
func (b *rb) markTarget() string {
	r := b.g.r
	v := fmt.Sprintf("0x%x", r.IntN(16))
	switch r.IntN(5) {
	case 0:
		return "-j MARK --set-mark " + b.markValue()
	case 1:
		return "-j MARK --set-xmark " + b.markValue()
	case 2:
		return "-j MARK --and-mark " + v
	case 3:
		return "-j MARK --or-mark " + v
	}
	return "-j MARK --xor-mark " + v
}

// connmarkTarget returns -j CONNMARK with set, save or restore.
func (b *rb) connmarkTarget() string {
	r := b.g.r
	masks := ""
	if r.IntN(3) == 0 {
		masks = " --nfmask 0xff --ctmask 0xff"
	}
	switch r.IntN(3) {
	case 0:
		return "-j CONNMARK --set-mark " + b.markValue()
	case 1:
		return "-j CONNMARK --save-mark" + masks
	}
	return "-j CONNMARK --restore-mark" + masks
}

// natTarget returns a NAT target. Ports need -p tcp or udp; MASQUERADE gets an
// "-o n+"-style device so that it never rewrites a packet leaving through lo
// (whose reply would be local). SNAT sources stay in the probe-source range so no
// reply can be routed.
func (b *rb) natTarget(name string) string {
	r := b.g.r
	ports := (b.protoIs(6) || b.protoIs(17)) && r.IntN(2) == 0
	switch name {
	case "DNAT":
		return "-j DNAT --to-destination " + b.natAddr(b.dnatAddrs(), ports) + b.natFlags()
	case "SNAT":
		return "-j SNAT --to-source " + b.natAddr(b.snatAddrs(), ports) + b.natFlags()
	case "REDIRECT":
		if ports {
			return "-j REDIRECT --to-ports " + b.portSpec("-")
		}
		return "-j REDIRECT"
	}
	if b.cond.out == "" || b.cond.outNeg || b.cond.out == "lo" {
		b.cond.out, b.cond.outNeg = []string{"n+", "n1", "n1"}[r.IntN(3)], false
	}
	s := "-j MASQUERADE"
	if ports {
		s += " --to-ports " + b.portSpec("-")
	}
	if r.IntN(4) == 0 {
		s += " --random"
	}
	return s
}

// natFlags returns an optional --random / --persistent.
func (b *rb) natFlags() string {
	switch b.g.r.IntN(6) {
	case 0:
		return " --random"
	case 1:
		return " --persistent"
	}
	return ""
}

// dnatAddrs returns candidate DNAT destinations: the server side, other routed
// addresses, node addresses, and loopback where the chain is reached only from OUTPUT.
func (b *rb) dnatAddrs() []netip.Addr {
	out := append([]netip.Addr{}, b.pl.remote...)
	out = append(out, b.pl.local[:len(b.pl.local)-1]...)
	if b.c.hooks.within(hOut) {
		out = append(out, b.pl.loopback)
	}
	return out
}

// snatAddrs returns SNAT sources inside the probe-source range.
func (b *rb) snatAddrs() []netip.Addr {
	return []netip.Addr{randIn(b.g.r, b.pl.snat), randIn(b.g.r, b.pl.snat)}
}

// natAddr renders an address, a range, and optional ports ("[v6]:p" form for IPv6).
func (b *rb) natAddr(cands []netip.Addr, ports bool) string {
	r := b.g.r
	x := cands[r.IntN(len(cands))]
	s := x.String()
	if y := x.Next(); r.IntN(4) == 0 && y.IsValid() && b.g.cfg.Family == 4 {
		s += "-" + y.Next().String()
	}
	if !ports {
		return s
	}
	if b.g.cfg.Family == 6 {
		return "[" + s + "]:" + b.portSpec("-")
	}
	return s + ":" + b.portSpec("-")
}

// portSpec returns "p" or "p1<sep>p2".
func (b *rb) portSpec(sep string) string {
	pr := b.randPortRange()
	if pr.lo == pr.hi {
		return fmt.Sprint(pr.lo)
	}
	return strings.Join([]string{fmt.Sprint(pr.lo), fmt.Sprint(pr.hi)}, sep)
}
