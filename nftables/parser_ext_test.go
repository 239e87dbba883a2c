package nftables_test

import (
	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/nftables"
)

// Parser is the nftables front-end collect.Loader dispatches to.
var _ collect.NftParser = nftables.Parser{}
