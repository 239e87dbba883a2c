package netns

import (
	"fmt"
	"strconv"
	"strings"
)

// Counter is one counter pair of an "iptables-save -c" dump: a built-in chain's
// policy (Rule 0) or a rule (Rule is its 1-based position in the chain, as
// "iptables -L --line-numbers" numbers it).
type Counter struct {
	Table, Chain string
	Rule         int
	Text         string // the rule as saved, without its counters; the policy for Rule 0
	Packets      uint64
	Bytes        uint64
}

// ParseSaveCounters reads every counter of an "iptables-save -c" dump, both
// "[p:b] -A CHAIN ..." rule lines and ":CHAIN POLICY [p:b]" policy lines. It is
// a small reader for the lab's own tests, not the project's parser.
func ParseSaveCounters(text string) ([]Counter, error) {
	var out []Counter
	table := ""
	index := map[string]int{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			table, index = line[1:], map[string]int{}
		case strings.HasPrefix(line, ":"):
			c, err := parsePolicy(table, line)
			if err != nil {
				return nil, fmt.Errorf("parse counters line %d: %w", n+1, err)
			}
			if c.Text != "-" {
				out = append(out, c)
			}
		case strings.HasPrefix(line, "["):
			c, err := parseRuleCounter(table, line)
			if err != nil {
				return nil, fmt.Errorf("parse counters line %d: %w", n+1, err)
			}
			index[c.Chain]++
			c.Rule = index[c.Chain]
			out = append(out, c)
		}
	}
	return out, nil
}

// parsePolicy parses ":CHAIN POLICY [p:b]".
func parsePolicy(table, line string) (Counter, error) {
	f := strings.Fields(line[1:])
	if len(f) < 3 {
		return Counter{}, fmt.Errorf("short chain line %q", line)
	}
	p, b, err := parsePair(f[2])
	return Counter{Table: table, Chain: f[0], Text: f[1], Packets: p, Bytes: b}, err
}

// parseRuleCounter parses "[p:b] -A CHAIN rest".
func parseRuleCounter(table, line string) (Counter, error) {
	pair, rest, ok := strings.Cut(line, " ")
	f := strings.Fields(rest)
	if !ok || len(f) < 2 || f[0] != "-A" {
		return Counter{}, fmt.Errorf("bad rule line %q", line)
	}
	p, b, err := parsePair(pair)
	return Counter{Table: table, Chain: f[1], Text: strings.TrimSpace(rest), Packets: p, Bytes: b}, err
}

// parsePair parses "[p:b]".
func parsePair(s string) (uint64, uint64, error) {
	ps, bs, ok := strings.Cut(strings.Trim(s, "[]"), ":")
	p, err1 := strconv.ParseUint(ps, 10, 64)
	b, err2 := strconv.ParseUint(bs, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad counters %q", s)
	}
	return p, b, nil
}

// Counters returns every rule and policy counter of the node's tables for the
// backend (SaveIptables then ParseSaveCounters).
func (l *Lab) Counters(b Backend, v6 bool) ([]Counter, error) {
	save, err := l.SaveIptables(b, v6)
	if err != nil {
		return nil, err
	}
	return ParseSaveCounters(save)
}
