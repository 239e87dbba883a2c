package kubelet

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/exposure-audit/exposure/checks/hostfs"
)

// UnitDirs are systemd's system unit search paths, highest precedence first
// (systemd.unit(5) "Unit File Load Path").
var UnitDirs = []string{
	"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system", "/lib/systemd/system",
}

// unit is the part of a service unit (with its drop-ins applied) that
// decides the command line: ExecStart, Environment, EnvironmentFile and
// WorkingDirectory, each remembered with the file that set it.
type unit struct {
	execStart, execFrom string
	env                 []envAssign
	envFiles            []envAssign
	workDir             string
}

type envAssign struct{ value, from string }

// FromSystemd reconstructs a kubelet's invocation from its systemd unit
// (kubelet.service) and drop-ins (kubelet.service.d/*.conf): ExecStart with
// $VAR expanded from Environment= and EnvironmentFile= (kubeadm's
// /var/lib/kubelet/kubeadm-flags.env, EKS's 10-kubelet-args.conf KUBELET_ARGS,
// /etc/default/kubelet, /etc/sysconfig/kubelet). It returns ok=false when
// there is no kubelet.service.
func FromSystemd(h hostfs.FS, name string) (Invocation, bool, error) {
	main, files := unitFiles(h, name)
	if main == "" {
		return Invocation{}, false, nil
	}
	var u unit
	for _, f := range append([]string{main}, files...) {
		if err := u.read(h, f); err != nil {
			return Invocation{}, true, err
		}
	}
	inv, err := u.invocation(h)
	inv.Source = "systemd unit " + main
	return inv, true, err
}

// unitFiles returns the unit file that wins and its drop-ins ordered by file
// name, a file in a higher-precedence directory masking same-named ones.
func unitFiles(h hostfs.FS, name string) (string, []string) {
	var main string
	dropins := map[string]string{}
	for _, d := range UnitDirs {
		if p := path.Join(d, name); main == "" && h.Exists(p) {
			main = p
		}
		names, _ := h.ReadDir(path.Join(d, name+".d"))
		for _, n := range names {
			if _, seen := dropins[n]; !seen && strings.HasSuffix(n, ".conf") {
				dropins[n] = path.Join(d, name+".d", n)
			}
		}
	}
	keys := make([]string, 0, len(dropins))
	for k := range dropins {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	files := make([]string, 0, len(keys))
	for _, k := range keys {
		files = append(files, dropins[k])
	}
	return main, files
}

// read applies one unit file's [Service] settings.
func (u *unit) read(h hostfs.FS, f string) error {
	data, err := h.ReadFile(f)
	if err != nil {
		return fmt.Errorf("read unit: %w", err)
	}
	section := ""
	for _, line := range joinContinuations(data) {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || section != "Service" {
			continue
		}
		u.set(strings.TrimSpace(key), strings.TrimSpace(val), f)
	}
	return nil
}

// set applies one assignment; an empty ExecStart= or EnvironmentFile= resets
// the list as systemd does for drop-ins.
func (u *unit) set(key, val, from string) {
	switch key {
	case "ExecStart":
		u.execStart, u.execFrom = val, from
	case "Environment":
		u.env = append(u.env, envAssign{val, from})
	case "EnvironmentFile":
		if val == "" {
			u.envFiles = nil
		} else {
			u.envFiles = append(u.envFiles, envAssign{val, from})
		}
	case "WorkingDirectory":
		u.workDir = val
	}
}

// joinContinuations returns the non-comment lines of a unit file with
// trailing-backslash continuations joined (systemd.syntax(7)).
func joinContinuations(data []byte) []string {
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// invocation expands ExecStart with the unit's environment.
func (u *unit) invocation(h hostfs.FS) (Invocation, error) {
	env, from, err := u.environment(h)
	if err != nil {
		return Invocation{}, err
	}
	if u.execStart == "" {
		return Invocation{}, fmt.Errorf("reconstruct kubelet command: no ExecStart")
	}
	words, err := SplitWords(strings.TrimLeft(u.execStart, "@-:+!"))
	if err != nil {
		return Invocation{}, fmt.Errorf("parse ExecStart in %s: %w", u.execFrom, err)
	}
	var argv, origin []string
	for _, w := range words {
		vals, src := expandWord(w, env, from, u.execFrom)
		argv = append(argv, vals...)
		for range vals {
			origin = append(origin, src)
		}
	}
	n := len(argv) - len(StripProgram(argv))
	cwd := u.workDir
	if cwd == "" || cwd == "~" {
		cwd = "/"
	}
	return Invocation{Argv: argv[n:], Origin: origin[n:], Cwd: strings.TrimPrefix(cwd, "-")}, nil
}

// environment evaluates Environment= then EnvironmentFile= (whose values
// override, as systemd reads the files last); a file prefixed "-" may be
// missing, any other unreadable file stops the unit from starting.
func (u *unit) environment(h hostfs.FS) (map[string]string, map[string]string, error) {
	env, from := map[string]string{}, map[string]string{}
	for _, a := range u.env {
		words, err := SplitWords(a.value)
		if err != nil {
			return nil, nil, fmt.Errorf("parse Environment in %s: %w", a.from, err)
		}
		for _, w := range words {
			if k, v, ok := strings.Cut(w, "="); ok {
				env[k], from[k] = v, a.from
			}
		}
	}
	for _, a := range u.envFiles {
		optional := strings.HasPrefix(a.value, "-")
		p := strings.TrimPrefix(a.value, "-")
		data, err := h.ReadFile(p)
		if err != nil && optional {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read EnvironmentFile of %s: %w", a.from, err)
		}
		for k, v := range ParseEnvFile(data) {
			env[k], from[k] = v, p
		}
	}
	return env, from, nil
}

// expandWord expands one ExecStart word: a word that is exactly "$VAR"
// becomes the variable's value split at whitespace; "${VAR}" and "$VAR"
// inside a word are replaced in place (systemd.service(5) "Command lines").
func expandWord(w string, env, from map[string]string, unitFile string) ([]string, string) {
	if name, ok := strings.CutPrefix(w, "$"); ok && isVarName(name) {
		return strings.Fields(env[name]), fromOr(from, name, unitFile)
	}
	src := unitFile
	out := expandInline(w, func(name string) string {
		src = fromOr(from, name, unitFile)
		return env[name]
	})
	return []string{out}, src
}

func fromOr(from map[string]string, name, def string) string {
	if f, ok := from[name]; ok {
		return f
	}
	return def
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// expandInline substitutes ${VAR} and $VAR references in s.
func expandInline(s string, get func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '{' {
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				b.WriteString(get(s[i+2 : i+end]))
				i += end
				continue
			}
		}
		j := i + 1
		for j < len(s) && isVarName(s[j:j+1]) {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(get(s[i+1 : j]))
		i = j - 1
	}
	return b.String()
}

// ParseEnvFile parses an EnvironmentFile (systemd.exec(5)): KEY=VALUE lines,
// "#" and ";" comments, values optionally single- or double-quoted.
func ParseEnvFile(data []byte) map[string]string {
	env := map[string]string{}
	for _, line := range joinContinuations(data) {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(strings.TrimPrefix(k, "export "))
		v = strings.TrimSpace(v)
		if words, err := SplitWords(v); err == nil && len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
			v = strings.Join(words, " ")
		}
		env[k] = v
	}
	return env
}
