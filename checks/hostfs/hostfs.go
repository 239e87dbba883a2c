// Package hostfs reads the node's files through a root directory, the way a
// node agent sees them when the host filesystem is mounted elsewhere (for
// example a DaemonSet mounting "/" at /host). Absolute symbolic links are
// resolved against that root, not against the agent's own "/", as the host's
// kernel would resolve them.
package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// maxLinks bounds symlink resolution like the kernel's MAXSYMLINKS (40) in
// fs/namei.c; past it the kernel returns ELOOP.
const maxLinks = 40

// errLoop reports too many levels of symbolic links, the kernel's ELOOP.
var errLoop = errors.New("too many levels of symbolic links")

// FS is the host filesystem seen through Root. Paths given to its methods are
// host paths ("/etc/kubernetes/kubelet.conf"); relative paths are taken from
// the host's "/".
type FS struct {
	// Root is the directory where the host's "/" is mounted; "" or "/" means
	// this machine's own root.
	Root string
	// Rec, when set, records every file, directory and link read (for a
	// snapshot bundle).
	Rec *Recorder
}

// New returns the host filesystem mounted at root.
func New(root string) FS { return FS{Root: root} }

// Resolve returns the local path of host path p with every symbolic link
// followed inside Root (absolute targets restart at Root, like chroot(2)).
func (h FS) Resolve(p string) (string, error) {
	rest := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	done, links := "/", 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == "" || name == "." {
			continue
		}
		next := path.Join(done, name)
		target, isLink, err := h.readlink(next)
		if err != nil {
			return "", err
		}
		if !isLink {
			done = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s: %w", p, errLoop)
		}
		if path.IsAbs(target) {
			done = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return h.local(done), nil
}

// readlink reports whether host path p is a symlink and its target. A path
// that does not exist is not a link; the later open reports it.
func (h FS) readlink(p string) (string, bool, error) {
	fi, err := os.Lstat(h.local(p))
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return "", false, nil
	}
	target, err := os.Readlink(h.local(p))
	if err != nil {
		return "", false, fmt.Errorf("read link %s: %w", p, err)
	}
	return target, true, nil
}

// local maps a clean absolute host path to this machine's path.
func (h FS) local(p string) string {
	if h.Root == "" || h.Root == "/" {
		return filepath.FromSlash(p)
	}
	return filepath.Join(h.Root, filepath.FromSlash(p))
}

// ReadFile reads host file p.
func (h FS) ReadFile(p string) ([]byte, error) {
	lp, err := h.Resolve(p)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(lp)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, unwrapPath(err))
	}
	h.Rec.file(p, b)
	return b, nil
}

// Exists reports whether host path p exists (following links).
func (h FS) Exists(p string) bool {
	lp, err := h.Resolve(p)
	if err != nil {
		return false
	}
	fi, err := os.Stat(lp)
	if err == nil {
		h.recordExisting(p, lp, fi)
	}
	return err == nil
}

// recordExisting keeps, for a recorder, a path whose existence was
// tested: a directory as (at least) an empty listing, a small file with
// its content.
func (h FS) recordExisting(p, lp string, fi os.FileInfo) {
	if h.Rec == nil {
		return
	}
	if fi.IsDir() {
		h.Rec.ensureDir(p)
		return
	}
	if fi.Mode().IsRegular() && fi.Size() <= 1<<20 {
		if b, err := os.ReadFile(lp); err == nil {
			h.Rec.file(p, b)
		}
	}
}

// IsDir reports whether host path p is a directory (following links).
func (h FS) IsDir(p string) bool {
	lp, err := h.Resolve(p)
	if err != nil {
		return false
	}
	fi, err := os.Stat(lp)
	if err == nil {
		h.recordExisting(p, lp, fi)
	}
	return err == nil && fi.IsDir()
}

// ReadDir lists the names in host directory p, sorted.
func (h FS) ReadDir(p string) ([]string, error) {
	lp, err := h.Resolve(p)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(lp)
	if err != nil {
		return nil, fmt.Errorf("read dir %s: %w", p, unwrapPath(err))
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	h.Rec.dir(p, names)
	return names, nil
}

// Readlink returns the target of host symlink p without following it.
func (h FS) Readlink(p string) (string, error) {
	dir, err := h.Resolve(path.Dir(path.Clean("/" + p)))
	if err != nil {
		return "", err
	}
	t, err := os.Readlink(filepath.Join(dir, path.Base(p)))
	if err != nil {
		return "", fmt.Errorf("read link %s: %w", p, unwrapPath(err))
	}
	h.Rec.link(p, t)
	return t, nil
}

// Walk returns the host paths of the regular files under host directory p in
// lexical order, as filepath.WalkDir visits them.
func (h FS) Walk(p string) ([]string, error) {
	lp, err := h.Resolve(p)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(lp, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(lp, q)
			files = append(files, path.Join(p, filepath.ToSlash(rel)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", p, unwrapPath(err))
	}
	return files, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose local path would leak the
// mount root into messages that should name host paths.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
