package iptables

import (
	"errors"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// ParseList reads `iptables -L -n [-v] [-x] [--line-numbers]` output.
func ParseList(data []byte, o Options) (*nf.Ruleset, error) {
	return nil, errors.New("parse iptables -L listing: not implemented yet")
}
