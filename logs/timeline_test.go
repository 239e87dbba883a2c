package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testRef is the reference time of the tests: year-less lines get their
// year from it, as they would from a file's mtime.
var testRef = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func testReader() *Reader {
	return &Reader{Time: TimeContext{Loc: time.UTC, Ref: testRef}}
}

func fileInputFor(t testing.TB, path string) Input {
	t.Helper()
	return Input{Name: filepath.ToSlash(path), Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./logs -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("timeline of %s differs from golden (-want +got):\n%s", name, diff)
	}
}

func TestTimelineGolden(t *testing.T) {
	var files []string
	for _, dir := range []string{"testdata/real/firewalld", "testdata/real/docker", "testdata/real/kube-proxy", "testdata/synthetic"} {
		m, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".md") || strings.HasSuffix(f, "-save.txt") {
			continue
		}
		name := strings.ReplaceAll(strings.TrimPrefix(f, "testdata/"), "/", "__") + ".json"
		t.Run(name, func(t *testing.T) {
			tl, err := testReader().Read(context.Background(), []Input{fileInputFor(t, f)})
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			b, err := json.MarshalIndent(tl, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, append(b, '\n'))
		})
	}
}

func TestTimelineMergesSourcesByTime(t *testing.T) {
	ins := []Input{
		fileInputFor(t, "testdata/real/firewalld/firewalld-nftables-backend-debug10.log"),
		fileInputFor(t, "testdata/real/docker/dockerd-run1-nft-debug.log"),
		fileInputFor(t, "testdata/real/kube-proxy/iptables-kube-proxy.log"),
	}
	tl, err := testReader().Read(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Source]bool{}
	for i, e := range tl.Events {
		seen[e.Source] = true
		if i > 0 && e.Time.Before(tl.Events[i-1].Time) {
			t.Fatalf("event %d at %v comes after %v: not sorted", i, e.Time, tl.Events[i-1].Time)
		}
	}
	if want := 3; len(seen) != want {
		t.Errorf("got %d sources, want %d", len(seen), want)
	}
}

func TestTimelineWindow(t *testing.T) {
	rd := testReader()
	rd.Since = time.Date(2026, 11, 22, 14, 13, 30, 0, time.UTC)
	rd.Until = time.Date(2026, 11, 22, 14, 14, 0, 0, time.UTC)
	tl, err := rd.Read(context.Background(), []Input{fileInputFor(t, "testdata/real/firewalld/firewalld-nftables-backend-debug10.log")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tl.Events {
		got = append(got, string(e.Action)+" "+e.Chain)
	}
	want := []string{"close runtime", "open permanent", "reload "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events in window (-want +got):\n%s", diff)
	}
}

func TestTimelineJSONListsNeverNull(t *testing.T) {
	tl, err := testReader().Read(context.Background(), []Input{{Name: "empty", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("")), nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tl)
	want := `{"events":[],"skipped":{"binary":0,"invalid_utf8":0,"too_long":0,"truncated":0},"problems":[],"notes":[]}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestEventJSONShape(t *testing.T) {
	e := Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: SourceCRIO, Action: ActionOpen, Proto: "tcp", Port: 443,
		Evidence: Evidence{File: "f", Line: 1, Text: "t"}, Family: 4, Note: ""}
	b, _ := json.Marshal(e)
	want := `{"time":"2026-01-02T03:04:05Z","source":"crio","action":"open","proto":"tcp","port":443,"addr":"","zone":"","chain":"","to":"","pod":"","evidence":{"file":"f","line":1,"text":"t"}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestJunkLinesAreCountedNotFatal(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("time=\"2024-01-01T00:00:00Z\" level=info msg=\"Opened local port tcp:1\"\n")
	in.WriteString("binary \x00 port\n")
	in.WriteString("bad utf8 \xff\xfe port\n")
	in.WriteString(strings.Repeat("x", 10<<20) + " port\n")
	in.WriteString("time=\"2024-01-01T00:00:01Z\" level=info msg=\"Opened local port tcp:2\"")
	rd := testReader()
	tl, err := rd.Read(context.Background(), []Input{{Name: "junk", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(&in), nil
	}}})
	if err != nil {
		t.Fatalf("junk must not be fatal, got %v", err)
	}
	want := Skipped{Binary: 1, InvalidUTF8: 1, TooLong: 1}
	if diff := cmp.Diff(want, tl.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	var lines []int
	for _, e := range tl.Events {
		lines = append(lines, e.Evidence.Line)
	}
	if diff := cmp.Diff([]int{1, 5}, lines); diff != "" {
		t.Errorf("event lines (-want +got):\n%s", diff)
	}
}
