package reallab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// leftovers remembers which fixed paths a component may create outside its
// private directories did not exist before it started.
type leftovers []string

// absent returns the paths of candidates that do not exist now.
func absent(candidates ...string) leftovers {
	var l leftovers
	for _, p := range candidates {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			l = append(l, p)
		}
	}
	return l
}

// remove deletes the remembered paths that exist now: the component made
// them. A path another user created in between is removed too; tests run
// these components one at a time. Cgroup directories are removed with
// rmdir (their files cannot be unlinked), so list children first.
func (l leftovers) remove() error {
	for _, p := range l {
		rm := os.RemoveAll
		if strings.HasPrefix(p, cgroupRoot) {
			rm = os.Remove
		}
		if err := rm(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove leftover %s: %w", p, err)
		}
	}
	return nil
}

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupDirs returns the cgroup directories named rel (children first) in
// every hierarchy (v1: one per controller) and in the unified one (v2),
// the parents a runtime's cgroupfs driver creates and leaves behind.
func cgroupDirs(rel ...string) []string {
	roots := []string{cgroupRoot}
	if des, err := os.ReadDir(cgroupRoot); err == nil {
		for _, de := range des {
			if de.IsDir() {
				roots = append(roots, filepath.Join(cgroupRoot, de.Name()))
			}
		}
	}
	var out []string
	for _, r := range roots {
		for _, name := range rel {
			out = append(out, filepath.Join(r, name))
		}
	}
	return out
}

// entries returns the names in dir, or nil when dir does not exist.
func entries(dir string) map[string]bool {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	m := map[string]bool{}
	for _, de := range des {
		m[de.Name()] = true
	}
	return m
}

// removeNew removes what dir holds now that it did not hold before
// (before from entries), and dir itself when it did not exist before.
func removeNew(dir string, before map[string]bool) error {
	if before == nil {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove leftover %s: %w", dir, err)
		}
		return nil
	}
	for name := range entries(dir) {
		if !before[name] {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove leftover: %w", err)
			}
		}
	}
	return nil
}
