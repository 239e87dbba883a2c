package iptables

import "strings"

// opt is one module or target option as written: its name, whether "!"
// preceded it, and its arguments.
type opt struct {
	name string
	neg  bool
	args []string
	col  int
}

// zeroArg lists options that take no argument; twoArg those that take two.
// Every other known option takes one.
var zeroArg = map[string]bool{
	"--syn": true, "--limit-iface-in": true, "--limit-iface-out": true, "--rsource": true, "--rdest": true,
	"--set": true, "--rcheck": true, "--update": true, "--remove": true, "--reap": true, "--rttl": true,
	"--random": true, "--random-fully": true, "--persistent": true, "--log-tcp-sequence": true,
	"--log-tcp-options": true, "--log-ip-options": true, "--log-uid": true, "--log-macdecode": true,
	"--physdev-is-bridged": true, "--physdev-is-in": true, "--physdev-is-out": true,
	"--return-nomatch": true, "--socket-exists": true, "--notrack": true, "--save-mark": true,
	"--restore-mark": true, "--checksum-fill": true, "--clamp-mss-to-pmtu": true, "--queue-bypass": true,
	"--fail-open": true, "--transparent": true, "--nowildcard": true, "--kerneltz": true, "--utc": true,
	"--contiguous": true, "--strict": true, "--next": true, "--update-counters": true,
	"--update-subcounters": true, "--restore": true, "--ecn-tcp-cwr": true, "--ecn-tcp-ece": true,
	"--ecn-tcp-remove": true, "--nodst": true, "--loose": true, "--validmark": true, "--accept-local": true,
	"--invert": true, "--rsrc": true, "--exist": true, "--suppl-groups": true, "--connlimit-saddr": true,
	"--connlimit-daddr": true,
}

var twoArg = map[string]bool{"--tcp-flags": true, "--set-counters": true, "--chunk-types": true}

// nargs returns how many arguments option name takes; -1: unknown, read
// arguments until the next option.
func nargs(name string, known bool) int {
	switch {
	case zeroArg[name]:
		return 0
	case twoArg[name]:
		return 2
	case known:
		return 1
	}
	return -1
}

// isOptionStart reports whether a token starts a new option.
func isOptionStart(s string) bool {
	return s == "!" || (strings.HasPrefix(s, "-") && len(s) > 1 && !isNumber(s[1:]))
}

func isNumber(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func optText(o opt) string {
	s := o.name
	if o.neg {
		s = "! " + s
	}
	for _, a := range o.args {
		s += " " + quote(a)
	}
	return s
}
