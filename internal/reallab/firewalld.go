package reallab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FirewalldBackends are the values of firewalld.conf's FirewallBackend.
const (
	FirewalldNftables = "nftables"
	FirewalldIptables = "iptables"
)

// Firewalld is a firewalld running in one network namespace, on a private
// D-Bus system bus, with a private copy of /etc/firewalld.
type Firewalld struct {
	tb  testing.TB
	Dir string // private directory: bus socket and config, etc copy, logs
	Bus string // DBUS_SYSTEM_BUS_ADDRESS of the private bus
	bus *daemon
	fw  *daemon
}

// busConfig is a system bus on a private socket that lets root (the only
// user here) own and call anything: firewalld's own policy file is not
// included.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow send_type="method_call"/>
    <allow send_type="method_return"/>
    <allow send_type="signal"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="signal"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
`

var backendRE = regexp.MustCompile(`(?m)^FirewallBackend=.*$`)

// StartFirewalld starts a private D-Bus bus and firewalld with the given
// backend inside namespace ns, and waits until "firewall-cmd --state"
// answers. Its cleanup stops both (firewalld removes its rules on SIGTERM)
// and deletes what they made.
func StartFirewalld(tb testing.TB, ns, backend string) *Firewalld {
	tb.Helper()
	dir, err := os.MkdirTemp("", "expo-firewalld-")
	if err != nil {
		tb.Fatal(err)
	}
	f := &Firewalld{tb: tb, Dir: dir, Bus: "unix:path=" + filepath.Join(dir, "bus.sock")}
	runBefore := entries("/run/firewalld")
	tb.Cleanup(func() { f.close(runBefore) })
	if err := f.config(backend); err != nil {
		tb.Fatal(err)
	}
	f.bus, err = startDaemon("dbus-daemon", ns, filepath.Join(dir, "dbus.log"), nil,
		"dbus-daemon", "--nofork", "--nopidfile", "--config-file", filepath.Join(dir, "bus.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.bus.waitFor(10*time.Second, func() error { _, err := os.Stat(filepath.Join(dir, "bus.sock")); return err }); err != nil {
		tb.Fatal(err)
	}
	f.fw, err = startDaemon("firewalld", ns, filepath.Join(dir, "firewalld.out"), []string{"DBUS_SYSTEM_BUS_ADDRESS=" + f.Bus},
		"firewalld", "--nofork", "--nopid", "--debug=1", "--system-config", filepath.Join(dir, "etc"),
		"--default-config", "/usr/lib/firewalld", "--log-target", "file", "--log-file", filepath.Join(dir, "firewalld.log"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.fw.waitFor(30*time.Second, func() error { _, err := f.Cmd("--state"); return err }); err != nil {
		tb.Fatalf("%v\n%s", err, f.log())
	}
	return f
}

// config writes the bus configuration and a copy of /etc/firewalld with
// FirewallBackend set.
func (f *Firewalld) config(backend string) error {
	if err := os.WriteFile(filepath.Join(f.Dir, "bus.conf"), fmt.Appendf(nil, busConfig, filepath.Join(f.Dir, "bus.sock")), 0o644); err != nil {
		return fmt.Errorf("write bus config: %w", err)
	}
	etc := filepath.Join(f.Dir, "etc")
	if out, err := exec.Command("cp", "-a", "/etc/firewalld", etc).CombinedOutput(); err != nil {
		return fmt.Errorf("copy /etc/firewalld: %w: %s", err, out)
	}
	conf := filepath.Join(etc, "firewalld.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		return fmt.Errorf("read firewalld.conf: %w", err)
	}
	data = backendRE.ReplaceAll(data, []byte("FirewallBackend="+backend))
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		return fmt.Errorf("write firewalld.conf: %w", err)
	}
	return nil
}

// Cmd runs firewall-cmd against this firewalld and returns its stdout.
func (f *Firewalld) Cmd(args ...string) (string, error) {
	cmd := exec.Command("firewall-cmd", args...)
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+f.Bus)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("firewall-cmd %s: %w: %s%s", strings.Join(args, " "), err, out.String(), strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// MustCmd runs firewall-cmd and fails the test on error.
func (f *Firewalld) MustCmd(args ...string) {
	f.tb.Helper()
	if _, err := f.Cmd(args...); err != nil {
		f.tb.Fatalf("%v\n%s", err, f.log())
	}
}

// log returns the end of firewalld's log file.
func (f *Firewalld) log() string {
	b, _ := os.ReadFile(filepath.Join(f.Dir, "firewalld.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// close stops firewalld then the bus, removes the entries firewalld added
// to /run/firewalld (and the directory if it made it), and the private
// directory.
func (f *Firewalld) close(runBefore map[string]bool) {
	for _, d := range []*daemon{f.fw, f.bus} {
		if d == nil {
			continue
		}
		if err := d.stop(); err != nil {
			f.tb.Errorf("%v\n%s", err, d.tail())
		}
	}
	if err := removeNew("/run/firewalld", runBefore); err != nil {
		f.tb.Error(err)
	}
	if err := os.RemoveAll(f.Dir); err != nil {
		f.tb.Error(err)
	}
}
