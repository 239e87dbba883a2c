package nftables

import nf "github.com/exposure-audit/exposure/netfilter"

// ParseText is Parser.ParseText.
func ParseText(data []byte, file string) (*nf.Ruleset, error) {
	p, err := newTextParser(data, file)
	if err != nil {
		return nil, err
	}
	if err := p.parseAll(); err != nil {
		return nil, err
	}
	return p.b.finish(), nil
}
