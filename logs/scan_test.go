package logs

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type scanned struct {
	N    int
	Line string
}

func scanAll(t *testing.T, s *lineScanner, r io.Reader) []scanned {
	t.Helper()
	var got []scanned
	if err := s.scan(r, func(n int, line []byte) error {
		got = append(got, scanned{n, string(line)})
		return nil
	}); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return got
}

func TestLineScanner(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		maxLine int
		want    []scanned
		skipped Skipped
	}{
		{"only lines with a needle, numbered", "a\nport 1\nb\nc\nport 2\n", 0,
			[]scanned{{2, "port 1"}, {5, "port 2"}}, Skipped{}},
		{"two needles on one line give it once", "x\nport () port\n", 0, []scanned{{2, "port () port"}}, Skipped{}},
		{"last line without newline", "a\nport", 0, []scanned{{2, "port"}}, Skipped{}},
		{"empty input", "", 0, nil, Skipped{}},
		{"NUL line skipped and counted", "port \x00\nport ok\n", 0, []scanned{{2, "port ok"}}, Skipped{Binary: 1}},
		{"invalid UTF-8 skipped and counted, even without a needle", "\xff\nport ok\n\xc3(\n", 0,
			[]scanned{{2, "port ok"}}, Skipped{InvalidUTF8: 2}},
		{"too long last line without newline is not read", "port a\n" + strings.Repeat("y", 200) + "port", 64,
			[]scanned{{1, "port a"}}, Skipped{TooLong: 1}},
		{"too long line skipped, numbering kept", "port a\n" + strings.Repeat("y", 200) + "port\nport b\n", 64,
			[]scanned{{1, "port a"}, {3, "port b"}}, Skipped{TooLong: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLineScanner([]string{"port", "()"}, tt.maxLine)
			got := scanAll(t, s, strings.NewReader(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.skipped, s.skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineScannerSmallReads(t *testing.T) {
	var in bytes.Buffer
	for i := range 5000 {
		if i%97 == 0 {
			in.WriteString("port here\n")
		} else {
			in.WriteString("nothing to see on this line at all\n")
		}
	}
	want := scanAll(t, newLineScanner([]string{"port"}, 0), bytes.NewReader(in.Bytes()))
	got := scanAll(t, newLineScanner([]string{"port"}, 0), iotest.OneByteReader(bytes.NewReader(in.Bytes())))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("one-byte reads differ (-want +got):\n%s", diff)
	}
	if len(want) != 52 {
		t.Errorf("got %d lines, want 52", len(want))
	}
}

func TestLineScannerHugeLineStreams(t *testing.T) {
	huge := strings.Repeat("z", 10<<20)
	s := newLineScanner([]string{"port"}, 1<<20)
	got := scanAll(t, s, strings.NewReader("port 1\n"+huge+"\nport 3\n"))
	want := []scanned{{1, "port 1"}, {3, "port 3"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.skipped.TooLong != 1 {
		t.Errorf("got %d too long, want 1", s.skipped.TooLong)
	}
}
