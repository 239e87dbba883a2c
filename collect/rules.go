// Package collect gathers a node's state: rulesets, addresses and sockets,
// from files (offline) or from the running system (live, read-only).
package collect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/exposure-audit/exposure/iptables"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// RuleFormat is a ruleset file format, detected from content.
type RuleFormat string

// Rule formats.
const (
	FormatIptables RuleFormat = "iptables"
	FormatNftJSON  RuleFormat = "nft-json"
	FormatNftText  RuleFormat = "nft"
)

// NftParser parses nftables rulesets; the nftables package provides it.
// It is a variable seam so collect does not depend on a front-end that is
// optional at build time.
type NftParser interface {
	ParseJSON(data []byte, file string) (*nf.Ruleset, error)
	ParseText(data []byte, file string) (*nf.Ruleset, error)
}

// Loader reads ruleset files of every supported format.
type Loader struct {
	// Nft parses nftables input; nil refuses it.
	Nft NftParser
}

// DetectRuleFormat tells nft JSON ({"nftables": ...}), nft text (table,
// flush, add, include statements) and iptables text apart.
func DetectRuleFormat(data []byte) RuleFormat {
	s := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(s, []byte("{")) || bytes.HasPrefix(s, []byte("[")):
		return FormatNftJSON
	}
	for len(s) > 0 {
		var line []byte
		line, s, _ = bytes.Cut(s, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		for _, kw := range []string{"table ", "flush ruleset", "add table", "add chain", "add rule", "define ", "include ", "create table", "delete table", "flush table"} {
			if bytes.HasPrefix(line, []byte(kw)) {
				return FormatNftText
			}
		}
		break
	}
	return FormatIptables
}

// LoadFiles reads every file, merges their tables into one ruleset (the
// kernel runs them together) and validates it.
func (l Loader) LoadFiles(paths ...string) (*nf.Ruleset, error) {
	rs := &nf.Ruleset{}
	for _, p := range paths {
		text, err := readString(p)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		part, err := l.ParseString(text, p)
		if err != nil {
			return nil, err
		}
		Merge(rs, part)
	}
	if err := nf.Validate(rs); err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return rs, nil
}

// Parse reads one ruleset in any supported format.
func (l Loader) Parse(data []byte, file string) (*nf.Ruleset, error) {
	switch DetectRuleFormat(data) {
	case FormatNftJSON:
		if l.Nft == nil {
			return nil, fmt.Errorf("parse %s: %w", file, errNoNft)
		}
		return l.Nft.ParseJSON(data, file)
	case FormatNftText:
		if l.Nft == nil {
			return nil, fmt.Errorf("parse %s: %w", file, errNoNft)
		}
		return l.Nft.ParseText(data, file)
	}
	return iptables.Parse(data, iptables.Options{File: file})
}

// ParseString is Parse for text held as a string; iptables rulesets then
// keep their rule texts in it without a copy.
func (l Loader) ParseString(text, file string) (*nf.Ruleset, error) {
	if DetectRuleFormat([]byte(text[:min(len(text), 64<<10)])) == FormatIptables {
		return iptables.ParseString(text, iptables.Options{File: file})
	}
	return l.Parse([]byte(text), file)
}

// readString reads a file into a string without an extra copy.
func readString(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		b.Grow(int(st.Size()) + 1)
	}
	if _, err := io.Copy(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

var errNoNft = errors.New("nftables input is not supported by this build")

// Merge appends src's tables and warnings to dst, numbering tables in load
// order (later files register later).
func Merge(dst, src *nf.Ruleset) {
	for _, t := range src.Tables {
		t.Seq = len(dst.Tables) + 1
		dst.Tables = append(dst.Tables, t)
	}
	dst.Warnings = append(dst.Warnings, src.Warnings...)
}
