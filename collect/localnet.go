package collect

import (
	"io/fs"
	"maps"
	"strings"
)

// routeLocalnetPath is where /proc/sys holds route_localnet for a device
// ("all" for net.ipv4.conf.all).
func routeLocalnetPath(dev string) string { return confPath(dev, "route_localnet") }

// acceptLocalPath is where /proc/sys holds accept_local for a device.
func acceptLocalPath(dev string) string { return confPath(dev, "accept_local") }

func confPath(dev, name string) string { return "sys/net/ipv4/conf/" + dev + "/" + name }

// localnet reads net.ipv4.conf.{all,IFACE}.route_localnet and
// accept_local (read-only) into the bundle: "all" and each interface with
// an IPv4 configuration. A value that cannot be read is left out
// (unknown to the analysis).
func (l Live) localnet(b *Bundle) {
	b.RouteLocalnet = l.ipv4Conf(b, "route_localnet", "loopback addresses from the wire are judged with it taken as 0")
	b.AcceptLocal = l.ipv4Conf(b, "accept_local", "packets from the wire with a source address of the node are judged with it taken as 0")
	b.RPFilter = l.ipv4Conf(b, "rp_filter", "reverse-path filtering is taken as off, with an assumption where it would refuse a source")
}

// rpFilterPath is where /proc/sys holds rp_filter for a device.
func rpFilterPath(dev string) string { return confPath(dev, "rp_filter") }

// ipv4Conf reads net.ipv4.conf.{all,IFACE}.<name> for "all" and the
// bundle's interfaces, notes an unreadable "all" (effect says what that
// means), and records the provenance; nil when nothing could be read.
func (l Live) ipv4Conf(b *Bundle, name, effect string) map[string]int {
	vals := map[string]int{}
	names := []string{"all"}
	for _, i := range b.Interfaces {
		names = append(names, i.Name)
	}
	for _, n := range names {
		if n == "" || strings.Contains(n, "/") {
			continue
		}
		if v, ok := readConf(l.Proc, confPath(n, name), name == "rp_filter"); ok {
			vals[n] = v
		}
	}
	if _, ok := vals["all"]; !ok {
		l.note(b, "%s: could not read /proc/%s: %s", name, confPath("all", name), effect)
	}
	if len(vals) == 0 {
		return nil
	}
	b.Provenance[name] = "/proc/sys/net/ipv4/conf/{all,IFACE}/" + name
	return vals
}

// readConf reads a 0/1 sysctl file (0/1/2 with mode, as rp_filter).
func readConf(fsys fs.FS, name string, mode bool) (int, bool) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0, false
	}
	switch strings.TrimSpace(string(data)) {
	case "0":
		return 0, true
	case "1":
		return 1, true
	case "2":
		return 2, mode
	}
	return 0, false
}

// RPFilterEnv turns a bundle's rp_filter values into the simulator's
// nf.Env.RPFilter: nil (unknown) when none was recorded.
func RPFilterEnv(vals map[string]int) map[string]int {
	if len(vals) == 0 {
		return nil
	}
	return maps.Clone(vals)
}

// LocalnetEnv turns a bundle's route_localnet (or accept_local) values
// into the simulator's nf.Env.RouteLocalnet (AcceptLocal): nil (unknown)
// when none was recorded.
func LocalnetEnv(vals map[string]int) map[string]bool {
	if len(vals) == 0 {
		return nil
	}
	out := map[string]bool{}
	for k, v := range vals {
		out[k] = v != 0
	}
	return out
}
