package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const crioOpen = "time=\"2024-01-01T00:00:0%dZ\" level=info msg=\"Opened local port tcp:%d\"\n"

func writeFile(t *testing.T, path, content string, gz bool) {
	t.Helper()
	var b bytes.Buffer
	if gz {
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(content))
		zw.Close()
	} else {
		b.WriteString(content)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileInputsRotatedDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "crio.log"), "time=\"2024-01-01T00:00:03Z\" level=info msg=\"Opened local port tcp:3\"\n", false)
	writeFile(t, filepath.Join(dir, "crio.log.1"), "time=\"2024-01-01T00:00:02Z\" level=info msg=\"Opened local port tcp:2\"\n", false)
	writeFile(t, filepath.Join(dir, "crio.log.2.gz"), "time=\"2024-01-01T00:00:01Z\" level=info msg=\"Opened local port tcp:1\"\n", true)
	ins, err := FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range ins {
		names = append(names, filepath.Base(in.Name))
	}
	if diff := cmp.Diff([]string{"crio.log.2.gz", "crio.log.1", "crio.log"}, names); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	tl, err := testReader().Read(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for _, e := range tl.Events {
		ports = append(ports, e.Port)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

func TestFileInputsStdinAndMissing(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		wantErr bool
		want    int
	}{
		{"stdin", []string{"-"}, false, 1},
		{"missing file", []string{"/nonexistent/x.log"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := FileInputs(tt.paths, strings.NewReader("time=\"2024-01-01T00:00:00Z\" level=info msg=\"Opened local port tcp:1\"\n"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			tl, err := testReader().Read(context.Background(), ins)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Events) != tt.want {
				t.Errorf("got %d events, want %d", len(tl.Events), tt.want)
			}
		})
	}
}

// fakeExec records the command and returns canned output.
type fakeExec struct {
	name string
	args []string
	out  string
	err  error
}

func (f *fakeExec) Start(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
	f.name, f.args = name, args
	if f.err != nil {
		return nil, f.err
	}
	return io.NopCloser(strings.NewReader(f.out)), nil
}

func TestJournalInput(t *testing.T) {
	out, err := os.ReadFile("testdata/synthetic/journal.json")
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 6, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		x       *fakeExec
		follow  bool
		events  int
		wantErr bool
	}{
		{"reads journalctl -o json", &fakeExec{out: string(out)}, false, 5, false},
		{"follow adds --follow", &fakeExec{out: string(out)}, true, 5, false},
		{"journalctl missing", &fakeExec{err: errors.New("exec: not found")}, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := testReader().Read(context.Background(), []Input{JournalInput(tt.x, since, time.Time{}, tt.follow)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if tt.x.name != "journalctl" {
				t.Errorf("ran %q, want journalctl", tt.x.name)
			}
			args := strings.Join(tt.x.args, " ")
			for _, want := range []string{"-o json", "-u crio.service", "-u firewalld.service", "--since @1719273600"} {
				if !strings.Contains(args, want) {
					t.Errorf("args %q lack %q", args, want)
				}
			}
			if got := strings.Contains(args, "--follow"); got != tt.follow {
				t.Errorf("got --follow %v, want %v", got, tt.follow)
			}
			if err == nil && len(tl.Events) != tt.events {
				t.Errorf("got %d events, want %d", len(tl.Events), tt.events)
			}
		})
	}
}

func TestOSExecRunsReadOnlyCommand(t *testing.T) {
	rc, err := OSExec{}.Start(context.Background(), "sh", "-c", "echo port; exit 3")
	if err != nil {
		t.Skip("no sh: ", err)
	}
	b, _ := io.ReadAll(rc)
	if string(b) != "port\n" {
		t.Errorf("got %q, want %q", b, "port\n")
	}
	if err := rc.Close(); err == nil {
		t.Error("got nil error for exit 3, want one")
	}
}

// eventSink collects followed events safely.
type eventSink struct {
	mu sync.Mutex
	ev []Event
	ch chan struct{}
}

func (s *eventSink) add(e Event) {
	s.mu.Lock()
	s.ev = append(s.ev, e)
	s.mu.Unlock()
	s.ch <- struct{}{}
}

func (s *eventSink) wait(t *testing.T, n int) []int {
	t.Helper()
	for {
		s.mu.Lock()
		got := len(s.ev)
		s.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-s.ch:
		case <-time.After(20 * time.Second):
			t.Fatalf("waited for %d events, got %d", n, got)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ports []int
	for _, e := range s.ev {
		ports = append(ports, e.Port)
	}
	return ports
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func TestFollowRotationAndTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crio.log")
	writeFile(t, path, "time=\"2024-01-01T00:00:01Z\" level=info msg=\"Opened local port tcp:1\"\n", false)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &eventSink{ch: make(chan struct{}, 100)}
	done := make(chan error)
	f := &Follower{Poll: 5 * time.Millisecond}
	go func() { done <- f.Follow(ctx, testReader(), path, &Timeline{}, sink.add) }()
	sink.wait(t, 1)

	appendFile(t, path, "time=\"2024-01-01T00:00:02Z\" level=info msg=\"Opened local port tcp:2\"\n")
	sink.wait(t, 2)

	if err := os.Rename(path, path+".1"); err != nil { // logrotate create mode
		t.Fatal(err)
	}
	appendFile(t, path+".1", "time=\"2024-01-01T00:00:03Z\" level=info msg=\"Opened local port tcp:3\"\n")
	writeFile(t, path, "time=\"2024-01-01T00:00:04Z\" level=info msg=\"Opened local port tcp:4\"\n", false)
	sink.wait(t, 4)

	// copytruncate. The new content is shorter than what was read: a
	// truncation refilled to the same size within one mtime tick cannot be
	// seen by anyone polling (tail -F neither).
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "time=\"2024-01-01T00:00:05Z\" msg=\"Opened local port tcp:5\"\n")
	got := sink.wait(t, 5)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, got); diff != "" {
		t.Errorf("followed ports (-want +got):\n%s", diff)
	}
}
