package hygiene

import (
	"fmt"
	"sort"
	"strings"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/hostfs"
)

// restorer is a service that flushes the tables listed in a save file and
// restores that file at every start (iptables-services' iptables.init runs
// iptables-restore without --noflush; netfilter-persistent's plugins do the
// same with /etc/iptables/rules.v4|v6).
type restorer struct {
	unit, saveFile string
}

var restorers = []restorer{
	{"iptables.service", "/etc/sysconfig/iptables"},
	{"ip6tables.service", "/etc/sysconfig/ip6tables"},
	{"netfilter-persistent.service", "/etc/iptables/rules.v4"},
}

// RestoreServices reports, for each restoring service, whether it is
// enabled or active next to Kubernetes or Docker and what its save file
// would put back over their rules.
func RestoreServices(h hostfs.FS, cs Components) []checks.Result {
	out := make([]checks.Result, 0, len(restorers))
	for _, r := range restorers {
		out = append(out, restoreService(h, cs, r))
	}
	return out
}

func restoreService(h hostfs.FS, cs Components, r restorer) checks.Result {
	u := ReadUnit(h, r.unit)
	res := checks.Result{ID: "restore-" + strings.TrimSuffix(r.unit, ".service"), Group: "hygiene",
		Title:    r.unit + " does not flush and restore rules under Kubernetes or Docker",
		Severity: checks.High, Scored: true,
		Evidence: checks.Evidence{Layer: checks.LayerUnit, Path: unitPath(u), Actual: u.State(), Expected: "disabled and inactive"}}
	owners := owners(cs)
	switch {
	case !u.Enabled() && !u.Active():
		res.Status, res.Message = checks.Pass, r.unit+" is "+u.State()
	case owners == "":
		res.Status, res.Severity = checks.Info, checks.Note
		res.Message = r.unit + " is " + u.State() + "; no Kubernetes or Docker component found"
	default:
		res.Status = checks.Fail
		res.Message = fmt.Sprintf("%s is %s next to %s: at every start it flushes and restores %s", r.unit, u.State(), owners, describeSave(h, r.saveFile))
		res.Remediation = fmt.Sprintf("systemctl disable --now %s && systemctl mask %s; keep host rules in a chain the components leave alone (OPENSHIFT-ADMIN-OUTPUT-RULES, DOCKER-USER) or in firewalld.", r.unit, r.unit)
	}
	return res
}

func unitPath(u Unit) string {
	for _, p := range []string{u.EnabledBy, u.ActiveBy, u.File} {
		if p != "" {
			return p
		}
	}
	return u.Name
}

// owners lists the rule-owning components found, for messages.
func owners(cs Components) string {
	var names []string
	for _, c := range []Component{Kubelet, KubeProxy, OVNK, Docker} {
		if cs.Has(c) {
			names = append(names, string(c))
		}
	}
	return strings.Join(names, ", ")
}

// describeSave summarises what an iptables-save file would restore: the
// tables it flushes, its rule count, and whether it carries any Kubernetes
// or Docker chain (it normally does not, so they are lost).
func describeSave(h hostfs.FS, file string) string {
	data, err := h.ReadFile(file)
	if err != nil {
		return file + " (unreadable: " + err.Error() + "; the service then fails or loads nothing)"
	}
	snap, err := FromSave(file, data)
	if err != nil {
		return file + " (unparseable: " + err.Error() + "; the service then fails)"
	}
	s := Summarize(snap)
	kept := "no KUBE-*, DOCKER or OVN-KUBE-* chain, so those rules are lost until their owners resync"
	if len(s.ComponentChains) > 0 {
		kept = "a stale copy of " + strings.Join(s.ComponentChains, ", ")
	}
	return fmt.Sprintf("%s: flushes tables %s and loads %d rules with %s", file, strings.Join(s.Tables, ", "), s.Rules, kept)
}

// SaveSummary is what a save file holds.
type SaveSummary struct {
	Tables          []string // the tables it flushes and restores, in file order
	Rules           int      // the number of rules
	ComponentChains []string // KUBE-*, DOCKER*, OVN-KUBE-*, … chains it declares, sorted
}

// Summarize lists a snapshot's tables, counts its rules and names the
// component-owned chains it declares.
func Summarize(snap Snapshot) SaveSummary {
	var s SaveSummary
	seen := map[string]bool{}
	for _, t := range snap.Tables {
		s.Tables = append(s.Tables, t.Name)
		s.Rules += len(t.Rules)
		for _, c := range t.Chains {
			if owner(c) != "" && !seen[c] {
				seen[c] = true
				s.ComponentChains = append(s.ComponentChains, c)
			}
		}
	}
	sort.Strings(s.ComponentChains)
	return s
}

// FirewalldAndIptables fails when firewalld and iptables.service are both
// enabled or active: firewalld.service declares Conflicts=iptables.service,
// and each reload of one flushes the other's rules.
func FirewalldAndIptables(h hostfs.FS) checks.Result {
	fw, ipt := ReadUnit(h, "firewalld.service"), ReadUnit(h, "iptables.service")
	res := checks.Result{ID: "firewalld-iptables", Group: "hygiene",
		Title:    "firewalld and iptables.service are not both in use",
		Severity: checks.Medium, Scored: true,
		Evidence: checks.Evidence{Layer: checks.LayerUnit, Path: unitPath(fw),
			Actual: "firewalld " + fw.State() + "; iptables.service " + ipt.State(), Expected: "at most one enabled"}}
	inUse := func(u Unit) bool { return u.Enabled() || u.Active() }
	if inUse(fw) && inUse(ipt) {
		res.Status = checks.Fail
		res.Message = "firewalld and iptables.service both manage the ruleset; whichever starts last flushes the other's rules"
		res.Remediation = "Pick one: systemctl disable --now iptables.service (firewalld also honours Kubernetes' rules through its own zones), or disable firewalld."
		return res
	}
	res.Status, res.Message = checks.Pass, "at most one of firewalld and iptables.service is in use"
	return res
}
