package main

import (
	"github.com/exposure-audit/exposure/collect"
	"github.com/exposure-audit/exposure/nftables"
)

// nftParser returns the nftables front-end.
func nftParser() collect.NftParser { return nftables.Parser{} }
