package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Follower keeps reading a file as it grows, like tail -F: when the file is
// renamed away (logrotate's create mode) it finishes the old file and opens
// the new one from the start; when it is truncated in place (copytruncate)
// it starts again from the beginning. Each reopening is a new stream, so
// line numbers restart with the file.
type Follower struct {
	// Poll is how long to wait at the end of the file; 0 means 250 ms.
	Poll time.Duration
	// Sleep waits for d or until ctx is done; nil means a timer. Tests
	// pass their own.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Follow reads path until ctx is done, sending each event to emit.
// Skipped lines and problems accumulate in tl.
func (f *Follower) Follow(ctx context.Context, rd *Reader, path string, tl *Timeline, emit func(Event)) error {
	for ctx.Err() == nil {
		file, err := os.Open(path)
		if err != nil {
			if serr := f.sleep(ctx); serr != nil {
				return nil
			}
			continue
		}
		tr := &tailReader{f: f, ctx: ctx, file: file, path: path}
		in := Input{Name: path, ModTime: time.Now()}
		err = rd.readAll(in, tr, tl, emit)
		file.Close()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("follow log: %w", err)
		}
	}
	return nil
}

func (f *Follower) sleep(ctx context.Context) error {
	d := f.Poll
	if d == 0 {
		d = 250 * time.Millisecond
	}
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tailReader reads one open file; at its end it waits for more, and ends
// the stream (io.EOF) when the file was rotated, truncated or ctx is done.
type tailReader struct {
	f    *Follower
	ctx  context.Context
	file *os.File
	path string
	off  int64
	mod  time.Time // modification time when the end was last reached
	read bool      // data was read since the end was last reached
}

// Read implements io.Reader.
func (t *tailReader) Read(p []byte) (int, error) {
	for {
		n, err := t.file.Read(p)
		t.off += int64(n)
		if n > 0 {
			t.read = true
			return n, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if t.replaced() {
			// Lines written to the old file between the last read and
			// the switch are still read.
			if n, _ := t.file.Read(p); n > 0 {
				t.off += int64(n)
				return n, nil
			}
			return 0, io.EOF
		}
		if t.f.sleep(t.ctx) != nil {
			return 0, io.EOF
		}
	}
}

// replaced reports a rotation (the path now names another file) or a
// truncation: the file is shorter than what was read, or it was written
// to without growing past it (truncated and refilled between two polls).
func (t *tailReader) replaced() bool {
	cur, err := t.file.Stat()
	if err != nil {
		return true
	}
	now, err := os.Stat(t.path)
	if err != nil {
		return false // rotated away, new file not there yet: keep waiting
	}
	rewritten := !t.read && !t.mod.IsZero() && !cur.ModTime().Equal(t.mod) && cur.Size() <= t.off
	t.mod, t.read = cur.ModTime(), false
	return !os.SameFile(cur, now) || cur.Size() < t.off || rewritten
}
