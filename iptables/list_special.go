package iptables

import (
	"strconv"
	"strings"
)

// recentRec reads " ! recent: CHECK seconds: 10800 reap hit_count: 4
// TTL-Match name: KUBE-SEP-X side: source mask: 255.255.255.255"
// (libxt_recent.c recent_print) back into the options in the order
// recent_save prints them.
func recentRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	cmds := map[string]string{"SET": "--set", "CHECK": "--rcheck", "UPDATE": "--update", "REMOVE": "--remove"}
	var cmd, tail []opt
	for {
		w := m.t.peek()
		if c, ok := cmds[w]; ok {
			m.t.word()
			cmd = append(cmd, opt{name: c, neg: neg})
			continue
		}
		o, ok := recentOption(m, w)
		if !ok {
			break
		}
		tail = append(tail, o)
	}
	if len(cmd) == 0 {
		return listMod{}, false
	}
	return listMod{mod: "recent", opts: append(cmd, sortRecent(tail)...)}, true
}

func recentOption(m *matchParser, w string) (opt, bool) {
	valued := map[string]string{"seconds:": "--seconds", "hit_count:": "--hitcount", "name:": "--name", "mask:": "--mask"}
	if name, ok := valued[w]; ok {
		m.t.word()
		return opt{name: name, args: []string{m.t.word()}}, true
	}
	switch w {
	case "reap":
		m.t.word()
		return opt{name: "--reap"}, true
	case "TTL-Match":
		m.t.word()
		return opt{name: "--rttl"}, true
	case "side:":
		m.t.word()
		if m.t.word() == "dest" {
			return opt{name: "--rdest"}, true
		}
		return opt{name: "--rsource"}, true
	}
	return opt{}, false
}

// sortRecent orders recent options as recent_save prints them.
func sortRecent(opts []opt) []opt {
	order := []string{"--seconds", "--reap", "--hitcount", "--rttl", "--name", "--mask", "--rsource", "--rdest"}
	var out []opt
	for _, n := range order {
		for _, o := range opts {
			if o.name == n {
				out = append(out, o)
			}
		}
	}
	return out
}

// limitRec reads " limit: avg 3/hour burst 5" (libxt_limit.c); the save
// form leaves out the default burst of 5.
func limitRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if !neg && (m.t.peek() == "up" || m.t.peek() == "above") {
		return hashlimitRec(m)
	}
	if neg || !m.t.accept("avg") {
		return listMod{}, false
	}
	rate := m.t.word()
	if rate == "" || !m.t.accept("burst") {
		return listMod{}, false
	}
	burst := m.t.word()
	mod := listMod{mod: "limit", opts: []opt{{name: "--limit", args: []string{rate}}}}
	if burst != "5" {
		mod.opts = append(mod.opts, opt{name: "--limit-burst", args: []string{burst}})
	}
	return mod, true
}

// icmpRec reads the icmp and icmpv6 print forms (libipt_icmp.c,
// libip6t_icmp6.c print_icmptype): with -n the type is glued to the
// module name ("icmptype 3 code 4", "icmp !type 8", "ipv6-icmptype 128");
// without -n a known type is printed by name ("icmp echo-request",
// "icmp !echo-request"). Type 255 with every code is "any".
func icmpRec(m *matchParser, w string, neg bool) (listMod, bool) {
	v6 := strings.HasPrefix(w, "ipv6-")
	mod, optName := "icmp", "--icmp-type"
	if v6 {
		mod, optName = "icmp6", "--icmpv6-type"
	}
	inv := false
	if !strings.HasSuffix(w, "type") {
		next := m.t.word()
		var name string
		if name, inv = negArg(next); name != "type" {
			if _, _, err := parseICMPType(name, v6); err != nil || name == "" {
				return listMod{}, false
			}
			return listMod{mod: mod, opts: []opt{{name: optName, neg: inv, args: []string{name}}}}, !neg
		}
	}
	typ, ok := icmpTypeCode(m, v6)
	if neg || !ok {
		return listMod{}, false
	}
	return listMod{mod: mod, opts: []opt{{name: optName, neg: inv, args: []string{typ}}}}, true
}

// icmpTypeCode reads "N [code C | codes A-B]" into the --icmp-type
// argument ("N", "N/C", "any").
func icmpTypeCode(m *matchParser, v6 bool) (string, bool) {
	t := m.t.word()
	if _, err := strconv.ParseUint(t, 10, 8); err != nil {
		return "", false
	}
	switch m.t.peek() {
	case "code":
		m.t.word()
		return t + "/" + m.t.word(), true
	case "codes":
		m.t.word()
		r := m.t.word()
		m.lp.warn("icmp type %s codes %s: a code range has no iptables option; read as type %s with any code", t, r, t)
	}
	if t == "255" && !v6 {
		return "any", true
	}
	return t, true
}

// numericPorts rewrites the service names in a port, range or list
// ("ssh", "ftp-data:ssh", "http,https") as numbers, so that names holding
// "-" do not read as ranges.
func numericPorts(s string) string {
	parts := strings.Split(s, ",")
	for i, part := range parts {
		ends := strings.Split(part, ":")
		for j, e := range ends {
			if n, ok := services[e]; ok {
				ends[j] = strconv.Itoa(int(n))
			} else if n, ok := listServices[e]; ok {
				ends[j] = strconv.Itoa(int(n))
			}
		}
		parts[i] = strings.Join(ends, ":")
	}
	return strings.Join(parts, ",")
}
