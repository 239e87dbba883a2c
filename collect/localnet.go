package collect

import (
	"io/fs"
	"strings"
)

// routeLocalnetPath is where /proc/sys holds route_localnet for a device
// ("all" for net.ipv4.conf.all).
func routeLocalnetPath(dev string) string { return "sys/net/ipv4/conf/" + dev + "/route_localnet" }

// localnet reads net.ipv4.conf.{all,IFACE}.route_localnet (read-only)
// into the bundle: "all" and each interface with an IPv4 configuration.
// A value that cannot be read is left out (unknown to the analysis).
func (l Live) localnet(b *Bundle) {
	vals := map[string]int{}
	names := []string{"all"}
	for _, i := range b.Interfaces {
		names = append(names, i.Name)
	}
	for _, n := range names {
		if n == "" || strings.Contains(n, "/") {
			continue
		}
		if v, ok := readFlag(l.Proc, routeLocalnetPath(n)); ok {
			vals[n] = v
		}
	}
	if _, ok := vals["all"]; !ok {
		l.note(b, "route_localnet: could not read /proc/%s: loopback addresses from the wire are judged with it taken as 0", routeLocalnetPath("all"))
	}
	if len(vals) > 0 {
		b.RouteLocalnet = vals
		b.Provenance["route_localnet"] = "/proc/sys/net/ipv4/conf/{all,IFACE}/route_localnet"
	}
}

// readFlag reads a 0/1 sysctl file.
func readFlag(fsys fs.FS, name string) (int, bool) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0, false
	}
	switch strings.TrimSpace(string(data)) {
	case "0":
		return 0, true
	case "1":
		return 1, true
	}
	return 0, false
}

// LocalnetEnv turns a bundle's route_localnet values into the
// simulator's nf.Env.RouteLocalnet: nil (unknown) when none was recorded.
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
