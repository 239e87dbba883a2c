package reallab

import (
	"fmt"
	"os"
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
