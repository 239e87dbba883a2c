package hostfs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
)

// Capture is what a node audit read from the host filesystem: enough to
// replay the same audit elsewhere (a snapshot bundle's "host" section).
type Capture struct {
	// Files are the regular files read, by host path.
	Files map[string]string `json:"files"`
	// Dirs are the directory listings taken, by host path.
	Dirs map[string][]string `json:"dirs"`
	// Links are the symbolic links read, by host path.
	Links map[string]string `json:"links"`
	// Kubelet is the kubelet invocation the audit found.
	Kubelet *Kubelet `json:"kubelet,omitempty"`
}

// Kubelet is the running kubelet's argument list and working directory.
type Kubelet struct {
	Argv    []string `json:"argv"`
	Cwd     string   `json:"cwd"`
	Source  string   `json:"source"`
	Version string   `json:"version,omitempty"`
}

// Recorder collects a Capture from the reads of an FS it is attached to.
// It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	cap Capture
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{cap: Capture{Files: map[string]string{}, Dirs: map[string][]string{}, Links: map[string]string{}}}
}

// Capture returns what was recorded.
func (r *Recorder) Capture() *Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cap
	return &c
}

func (r *Recorder) file(p string, b []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.cap.Files[path.Clean("/"+p)] = string(b)
	r.mu.Unlock()
}

func (r *Recorder) dir(p string, names []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.cap.Dirs[path.Clean("/"+p)] = append([]string(nil), names...)
	r.mu.Unlock()
}

func (r *Recorder) ensureDir(p string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if _, ok := r.cap.Dirs[path.Clean("/"+p)]; !ok {
		r.cap.Dirs[path.Clean("/"+p)] = []string{}
	}
	r.mu.Unlock()
}

func (r *Recorder) link(p, target string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.cap.Links[path.Clean("/"+p)] = target
	r.mu.Unlock()
}

// Materialize writes a capture under dir as a host tree (directories,
// files, symbolic links), so that FS{Root: dir} answers the audit's reads
// as the host did. Entries the audit listed but never read become empty
// files, so directory listings come out the same.
func (c *Capture) Materialize(dir string) error {
	dirs := c.directories()
	for _, d := range sortedKeys(c.Dirs) {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("materialize capture: %w", err)
		}
		for _, name := range c.Dirs[d] {
			p := path.Join(d, name)
			if _, isFile := c.Files[p]; isFile {
				continue
			}
			if _, isLink := c.Links[p]; isLink {
				continue
			}
			if err := touch(filepath.Join(dir, p), dirs[p]); err != nil {
				return err
			}
		}
	}
	for _, p := range sortedKeys(c.Files) {
		local := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return fmt.Errorf("materialize capture: %w", err)
		}
		if err := os.WriteFile(local, []byte(c.Files[p]), 0o644); err != nil {
			return fmt.Errorf("materialize capture: %w", err)
		}
	}
	for _, p := range sortedKeys(c.Links) {
		local := filepath.Join(dir, p)
		os.RemoveAll(local)
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return fmt.Errorf("materialize capture: %w", err)
		}
		if err := os.Symlink(c.Links[p], local); err != nil {
			return fmt.Errorf("materialize capture: %w", err)
		}
	}
	return nil
}

// directories are the recorded directories and every ancestor of a
// recorded path.
func (c *Capture) directories() map[string]bool {
	out := map[string]bool{}
	add := func(p string) {
		for d := path.Dir(p); d != "/" && !out[d]; d = path.Dir(d) {
			out[d] = true
		}
	}
	for p := range c.Dirs {
		out[p] = true
		add(p)
	}
	for p := range c.Files {
		add(p)
	}
	for p := range c.Links {
		add(p)
	}
	return out
}

// touch creates an empty file or directory unless something is there.
func touch(p string, dir bool) error {
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("materialize capture: %w", err)
	}
	return os.WriteFile(p, nil, 0o644)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
