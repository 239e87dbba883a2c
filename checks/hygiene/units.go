// Package hygiene checks what on a node fights over its netfilter ruleset:
// services that flush and restore iptables (iptables.service,
// ip6tables.service, netfilter-persistent) next to Kubernetes or Docker,
// firewalld running with them, a flushed or partial ruleset, both iptables
// backends in use, and admin rules placed where components rewrite them
// (OpenShift's iptables chapter: admins belong in OPENSHIFT-ADMIN-OUTPUT-RULES,
// Docker's documentation: DOCKER-USER).
package hygiene

import (
	"path"
	"strings"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// unitDirs are the directories whose *.wants/ and *.requires/ symlinks
// enable a system unit (systemd.unit(5), "[Install] WantedBy=").
var unitDirs = []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// Unit is what the node's files say about one systemd unit.
type Unit struct {
	// Name is the unit name ("iptables.service").
	Name string
	// File is the unit file that wins ("" when the unit is not installed).
	File string
	// EnabledBy is the wants/requires symlink that enables it.
	EnabledBy string
	// Masked is true when the unit file is a link to /dev/null.
	Masked bool
	// ActiveBy is /run/systemd/units/invocation:NAME, which systemd (≥ 240)
	// keeps while the unit is active, or the process seen running.
	ActiveBy string
}

// Enabled reports whether the unit starts at boot.
func (u Unit) Enabled() bool { return u.EnabledBy != "" && !u.Masked }

// Active reports whether the unit is running (or, for a oneshot with
// RemainAfterExit like iptables.service, has run).
func (u Unit) Active() bool { return u.ActiveBy != "" }

// Present reports whether the unit is installed, enabled or active.
func (u Unit) Present() bool { return u.File != "" || u.Enabled() || u.Active() }

// State is a short text for evidence: "enabled, active", "installed".
func (u Unit) State() string {
	var parts []string
	switch {
	case u.Masked:
		parts = append(parts, "masked")
	case u.Enabled():
		parts = append(parts, "enabled")
	case u.File != "":
		parts = append(parts, "disabled")
	}
	if u.Active() {
		parts = append(parts, "active")
	} else if u.File != "" {
		parts = append(parts, "inactive")
	}
	if len(parts) == 0 {
		return "not installed"
	}
	return strings.Join(parts, ", ")
}

// ReadUnit reads unit name's state from the host's systemd directories.
func ReadUnit(h hostfs.FS, name string) Unit {
	u := Unit{Name: name}
	for _, d := range append([]string{"/run/systemd/system", "/usr/local/lib/systemd/system"}, unitDirs...) {
		p := path.Join(d, name)
		if t, err := h.Readlink(p); err == nil && t == "/dev/null" {
			u.Masked, u.File = true, p
			break
		}
		if h.Exists(p) {
			u.File = p
			break
		}
	}
	u.EnabledBy = enabledBy(h, name)
	if p := "/run/systemd/units/invocation:" + name; existsOrLink(h, p) {
		u.ActiveBy = p
	}
	return u
}

func existsOrLink(h hostfs.FS, p string) bool {
	if _, err := h.Readlink(p); err == nil {
		return true
	}
	return h.Exists(p)
}

// enabledBy returns the first *.wants/ or *.requires/ entry naming the unit.
func enabledBy(h hostfs.FS, name string) string {
	for _, d := range unitDirs {
		dirs, err := h.ReadDir(d)
		if err != nil {
			continue
		}
		for _, w := range dirs {
			if !strings.HasSuffix(w, ".wants") && !strings.HasSuffix(w, ".requires") {
				continue
			}
			p := path.Join(d, w, name)
			if existsOrLink(h, p) {
				return p
			}
		}
	}
	return ""
}
