package reallab

import (
	"fmt"
	"os"
	"path/filepath"
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
// these components one at a time.
func (l leftovers) remove() error {
	for _, p := range l {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove leftover %s: %w", p, err)
		}
	}
	return nil
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
