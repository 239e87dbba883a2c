package logs

import (
	"net"
	"strconv"
	"strings"
)

// ruleArgs is what exposure reads from an iptables rule spec (iptables(8),
// iptables-extensions(8)): the operation and chain, protocol, destination
// port and address, target and DNAT destination, comment.
type ruleArgs struct {
	Op      string // -A, -I, -D, -C or ""
	Chain   string
	Proto   string
	DPort   string
	Dest    string
	Target  string
	ToDest  string
	Comment string
}

// parseRuleArgs reads a space-separated rule spec; double-quoted words may
// hold spaces (iptables-save quotes comments). Negated matches ("! -d
// 127.0.0.0/8") are not a destination and are dropped.
func parseRuleArgs(s string) ruleArgs {
	var r ruleArgs
	words := splitWords(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "!" {
			i += 2
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(k, "--") {
			r.set(k, v)
			continue
		}
		if i+1 < len(words) && r.set(w, words[i+1]) {
			i++
		}
	}
	return r
}

// set stores the value of flag; it reports whether flag takes a value that
// exposure reads.
func (r *ruleArgs) set(flag, v string) bool {
	switch flag {
	case "-A", "-I", "-D", "-C", "--append", "--insert", "--delete", "--check":
		r.Op, r.Chain = flag, v
	case "-p", "--protocol":
		r.Proto = strings.ToLower(v)
	case "--dport", "--destination-port", "--dports":
		r.DPort = v
	case "-d", "--destination":
		r.Dest = hostAddr(v)
	case "-j", "--jump":
		r.Target = v
	case "--to-destination":
		r.ToDest = v
	case "--comment":
		r.Comment = v
	default:
		return false
	}
	return true
}

// hostAddr drops a host prefix length and the any-address "0/0".
func hostAddr(v string) string {
	switch v {
	case "0/0", "0.0.0.0/0", "::/0":
		return ""
	}
	if a, p, ok := strings.Cut(v, "/"); ok && (p == "32" || p == "128") {
		return a
	}
	return v
}

// splitWords splits on spaces, keeping double-quoted words whole and
// unescaping \" inside them.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have || cur.Len() > 0 {
				words = append(words, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteByte(c)
		}
	}
	if have || cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}

// parsePortRange reads "8080" or "30000-32767" (firewalld) or "7000:7002"
// (iptables multiport).
func parsePortRange(s string) (from, to int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		a, b, isRange = strings.Cut(s, ":")
	}
	from, ok = portNumber(a)
	if !ok || !isRange {
		return from, 0, ok
	}
	to, ok = portNumber(b)
	if !ok || to < from {
		return 0, 0, false
	}
	return from, to, true
}

// portNumber reads a port; it returns 0 and false for anything that is not
// one (including "+80" and numbers beyond 65535).
func portNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	return n, true
}

// familyOf returns 6 for an IPv6 address or host:port, 4 for IPv4, 0 when
// the string holds neither.
func familyOf(s string) int {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	ip := net.ParseIP(s)
	switch {
	case ip == nil:
		return 0
	case ip.To4() != nil:
		return 4
	}
	return 6
}
