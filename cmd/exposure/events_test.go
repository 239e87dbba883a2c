package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/exposure-audit/exposure/logs"
)

const (
	realDocker    = "../../logs/testdata/real/docker/dockerd-run1-nft-debug.log"
	realFirewalld = "../../logs/testdata/real/firewalld/firewalld-nftables-backend-debug10.log"
	synthFirewall = "../../logs/testdata/synthetic/firewalld-permanent.log"
	synthJournal  = "../../logs/testdata/synthetic/journal.json"
	dockerRules   = "../../logs/testdata/real/docker/05-after-variants.iptables-nft-save.txt"
	dockerStopped = "../../logs/testdata/real/docker/07-after-dockerd-stop.iptables-nft-save.txt"
)

// runEventsCmd runs `exposure events args…` with a fixed clock and exec.
func runEventsCmd(t *testing.T, x logs.Exec, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if x == nil {
		x = &fakeExec{}
	}
	o := &eventsOpts{now: func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }, exec: x}
	root := newRootCmd(a)
	for _, c := range root.Commands() {
		if c.Name() == "events" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(eventsCommand(a, o))
	root.SetArgs(append([]string{"events", "--tz", "UTC"}, args...))
	root.SetOut(&out)
	root.SetErr(&errb)
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCodeOf(err)
	}
	return code, out.String(), errb.String()
}

func exitCodeOf(err error) int {
	if ec, ok := err.(*exitError); ok {
		return ec.code
	}
	return ExitBadInput
}

type fakeExec struct {
	args []string
	out  string
}

func (f *fakeExec) Start(_ context.Context, name string, args ...string) (io.ReadCloser, error) {
	f.args = append([]string{name}, args...)
	return io.NopCloser(strings.NewReader(f.out)), nil
}

func TestEventsOutputs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"table", []string{realDocker}, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "TIME ") || !strings.Contains(out, "dockerd  open") {
				t.Errorf("got table\n%s\nwant header and dockerd rows", out)
			}
		}},
		{"json is the logs timeline", []string{realDocker, realFirewalld, "-o", "json"}, func(t *testing.T, out string) {
			var got logs.Timeline
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			rd := &logs.Reader{Time: logs.TimeContext{Loc: time.UTC, Ref: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}}
			want, err := rd.Read(context.Background(), fileInputs(t, realDocker, realFirewalld))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, &got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
				cmpopts.IgnoreFields(logs.Event{}, "Family")); diff != "" {
				t.Errorf("timeline (-want +got):\n%s", diff)
			}
		}},
		{"yaml", []string{synthFirewall, "-o", "yaml"}, func(t *testing.T, out string) {
			for _, want := range []string{"events:", "source: firewalld", "notes:", "problems:"} {
				if !strings.Contains(out, want) {
					t.Errorf("yaml lacks %q:\n%s", want, out)
				}
			}
		}},
		{"state json", []string{synthFirewall, "--state", "-o", "json"}, func(t *testing.T, out string) {
			var got struct {
				Ports   []logs.PortState `json:"ports"`
				Pending []logs.PortState `json:"pending"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Pending) != 1 || got.Pending[0].Port != 9090 {
				t.Errorf("got pending %+v, want the never reloaded removal of 9090", got.Pending)
			}
			if len(got.Ports) == 0 {
				t.Error("got no open ports, want the reloaded ones")
			}
		}},
		{"state table", []string{synthFirewall, "--state"}, func(t *testing.T, out string) {
			if !strings.Contains(out, "pending-close") || !strings.Contains(out, "note: ") || !strings.Contains(out, "problem: ") {
				t.Errorf("got\n%s\nwant pending-close row, notes and problems", out)
			}
		}},
		{"since and until", []string{realFirewalld, "-o", "json", "--since", "2026-11-22T14:13:30Z", "--until", "2026-11-22T14:14:00Z"},
			func(t *testing.T, out string) {
				var got logs.Timeline
				json.Unmarshal([]byte(out), &got)
				if len(got.Events) != 3 {
					t.Errorf("got %d events, want 3", len(got.Events))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runEventsCmd(t, nil, "", tt.args...)
			if code != 0 {
				t.Fatalf("got exit %d (%s), want 0", code, errs)
			}
			tt.check(t, out)
		})
	}
}

func fileInputs(t *testing.T, paths ...string) []logs.Input {
	t.Helper()
	ins, err := logs.FileInputs(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func TestEventsStdinAndJournal(t *testing.T) {
	journal, err := os.ReadFile(synthJournal)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("stdin", func(t *testing.T) {
		code, out, _ := runEventsCmd(t, nil, string(journal), "-", "-o", "json")
		var got logs.Timeline
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
			t.Fatalf("got exit %d, %v", code, err)
		}
		if len(got.Events) != 5 || got.Skipped.Truncated != 1 || got.Skipped.InvalidUTF8 != 1 {
			t.Errorf("got %d events, skipped %+v; want 5 events, 1 truncated, 1 invalid UTF-8", len(got.Events), got.Skipped)
		}
	})
	t.Run("journal", func(t *testing.T) {
		x := &fakeExec{out: string(journal)}
		code, out, errs := runEventsCmd(t, x, "", "--journal", "--since", "2h", "-o", "json")
		if code != 0 {
			t.Fatalf("got exit %d (%s)", code, errs)
		}
		if x.args[0] != "journalctl" || !strings.Contains(strings.Join(x.args, " "), "-o json") {
			t.Errorf("ran %v, want journalctl -o json", x.args)
		}
		if !strings.Contains(strings.Join(x.args, " "), "--since @1795384800") {
			t.Errorf("got %v, want --since two hours before the clock", x.args)
		}
		var got logs.Timeline
		json.Unmarshal([]byte(out), &got)
		if len(got.Events) != 0 {
			t.Errorf("got %d events, want 0 (all older than --since)", len(got.Events))
		}
	})
}

func TestEventsUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no input", nil},
		{"bad output", []string{realDocker, "-o", "xml"}},
		{"bad since", []string{realDocker, "--since", "yesterday-ish"}},
		{"bad zone", []string{realDocker, "--tz", "Mars/Olympus"}},
		{"follow with state", []string{realDocker, "--follow", "--state"}},
		{"state with snapshot", []string{realDocker, "--state", "--snapshot", dockerStopped}},
		{"snapshot missing", []string{realDocker, "--snapshot", "/nonexistent/rules"}},
		{"missing file", []string{"/nonexistent/file.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := runEventsCmd(t, nil, "", tt.args...); code != ExitBadInput {
				t.Errorf("got exit %d, want %d", code, ExitBadInput)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the follower goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEventsFollowPrintsAsTheyCome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dockerd.log")
	if err := os.WriteFile(path, []byte("time=\"2024-01-02T03:04:04Z\" level=info msg=\"Starting up\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	a := &app{stdout: &out, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	o := &eventsOpts{now: time.Now, exec: &fakeExec{}, output: "json", follow: true}
	rd, err := o.reader()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	ins, err := logs.FileInputs([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- o.runFollow(ctx, a, rd, ins) }()
	waitFor(t, &out, `"action":"restart"`)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("time=\"2024-01-02T03:04:05Z\" level=error msg=\"driver failed programming external connectivity on endpoint r (01): Bind for 0.0.0.0:5000 failed: port is already allocated\"\n")
	f.Close()
	waitFor(t, &out, `"action":"fail"`)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("got %d JSON lines, want 2:\n%s", n, out.String())
	}
}

func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %q, got:\n%s", s, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventsSnapshotReconciles(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		missing     int
		unexplained int
	}{
		{"log and rules agree", []string{"--until", "2026-11-22T14:10:30Z", "--snapshot", dockerRules}, 0, 0},
		{"rules flushed", []string{"--until", "2026-11-22T14:10:30Z", "--snapshot", dockerStopped}, 7, 0},
		{"rules the log closed", []string{"--snapshot", dockerRules}, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runEventsCmd(t, nil, "", append([]string{realDocker, "-o", "json"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("got exit %d (%s), want 0", code, errs)
			}
			var got logs.Reconciliation
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Missing) != tt.missing || len(got.Unexplained) != tt.unexplained {
				t.Errorf("got %d missing, %d unexplained; want %d, %d", len(got.Missing), len(got.Unexplained), tt.missing, tt.unexplained)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		_, out, _ := runEventsCmd(t, nil, "", realDocker, "--until", "2026-11-22T14:10:30Z", "--snapshot", dockerStopped)
		if !strings.HasPrefix(out, "FINDING") || strings.Count(out, "missing  dockerd") != 7 {
			t.Errorf("got\n%s\nwant 7 missing dockerd rows", out)
		}
	})
}

func TestEventsFollowStdinEndsAtEOF(t *testing.T) {
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	o := &eventsOpts{now: time.Now, exec: &fakeExec{}, output: "table", follow: true}
	rd, err := o.reader()
	if err != nil {
		t.Fatal(err)
	}
	stdin := "time=\"2024-01-02T03:04:04Z\" level=info msg=\"Starting up\"\nbinary \x00 Starting up\n"
	ins, err := logs.FileInputs([]string{"-"}, strings.NewReader(stdin))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.runFollow(context.Background(), a, rd, ins); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dockerd  restart") {
		t.Errorf("got stdout\n%s\nwant the restart row", out.String())
	}
	if !strings.Contains(errb.String(), "skipped 1 lines: 1 binary") {
		t.Errorf("got stderr %q, want the skipped binary line", errb.String())
	}
}
