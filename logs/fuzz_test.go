package logs

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seedLines adds every line of the test logs as fuzz seeds.
func seedLines(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte{'\n'}) {
			if len(l) < 4096 {
				f.Add(l)
			}
		}
	}
}

var fuzzSeeds = []string{
	"testdata/synthetic/crio-1.29-journal-short-iso.log", "testdata/synthetic/journal.json",
	"testdata/synthetic/ovnkube-master.log", "testdata/synthetic/firewalld-permanent.log",
	"testdata/synthetic/kube-proxy-1.23.log", "testdata/synthetic/dockerd-failures.log",
	"testdata/synthetic/ovnkube-controller-crilog.log", "testdata/synthetic/ovnkube-journal-short.log",
	"testdata/real/firewalld/07-runtime-extras.firewalld-log-excerpt.txt",
}

// FuzzRecognise frames a line and runs every recogniser on it: no panic,
// every event has a source and an action, ports stay in range, and a line
// either yields events or not, never both an event and garbage.
func FuzzRecognise(f *testing.F) {
	seedLines(f, fuzzSeeds...)
	tc := &TimeContext{Loc: time.UTC, Ref: testRef}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := Frame(line, tc)
		if err != nil {
			return
		}
		for _, r := range NewRecognisers(Options{}) {
			_ = r.Recognise(&rec, tc, func(e Event) {
				if e.Source == "" || (e.Action == "" && e.Note == "") {
					t.Errorf("event without source or action from %q: %+v", line, e)
				}
				if e.Port < 0 || e.Port > 65535 || e.PortTo < 0 || e.PortTo > 65535 {
					t.Errorf("port out of range from %q: %+v", line, e)
				}
			})
			r.Flush(func(Event) {})
		}
	})
}

// FuzzScanner checks the line scanner on arbitrary input against a
// line-by-line reference: same candidate lines, same numbers, same counts.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("a\nport x\n\xff port\n\x00 port\n"), 16)
	f.Add([]byte(`{"MESSAGE":[1,2]}`+"\n"+`{"MESSAGE":"a \"port\" b"}`), 8)
	f.Add([]byte("port"), 1)
	f.Fuzz(func(t *testing.T, in []byte, maxLine int) {
		if maxLine < 1 || maxLine > 1<<16 {
			maxLine = 64
		}
		needles := []string{"port", "()", `"MESSAGE":[`}
		s := newLineScanner(needles, maxLine)
		last := 0
		err := s.scan(bytes.NewReader(in), func(n int, line []byte) error {
			if n <= last {
				t.Fatalf("line %d after %d", n, last)
			}
			last = n
			if bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %q holds a newline", line)
			}
			if !utf8.Valid(line) || bytes.IndexByte(line, 0) >= 0 {
				t.Fatalf("junk line %q handed over", line)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total := bytes.Count(in, []byte{'\n'}) + 1; last > total {
			t.Fatalf("line %d beyond the %d lines of the input", last, total)
		}
	})
}

// FuzzRuleArgs: the iptables argument reader never panics, removes the
// quotes it splits on, and never makes up a port beyond 65535.
func FuzzRuleArgs(f *testing.F) {
	f.Add(`-A KUBE-HP-X -m comment --comment "a b" -p tcp -d 1.2.3.4/32 -j DNAT --to-destination=10.0.0.1:80`)
	f.Add(`--wait -t nat -A DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i docker0`)
	f.Add(`"unterminated \" -p`)
	f.Fuzz(func(t *testing.T, s string) {
		r := parseRuleArgs(s)
		if strings.ContainsRune(r.DPort, '"') || strings.ContainsRune(r.Chain, '"') {
			t.Errorf("quote left in a word: %+v from %q", r, s)
		}
		if from, to, ok := parsePortRange(r.DPort); ok && (from > 65535 || to > 65535) {
			t.Errorf("port range %d-%d out of range", from, to)
		}
	})
}

// FuzzPythonArgs: firewalld's argument repr reader never panics.
func FuzzPythonArgs(f *testing.F) {
	f.Add([]byte(`'public', '8080', 'tcp', 0`))
	f.Add([]byte(`'public', 'rule family="ipv4" port port="9100" protocol="tcp" accept', 0`))
	f.Add([]byte(`'it\'s', "x"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = pythonArgs(b)
	})
}

// FuzzLogrus: the logrus reader never panics and a message it returns came
// from the line.
func FuzzLogrus(f *testing.F) {
	seedLines(f, "testdata/synthetic/crio-1.29-journal-short-iso.log", "testdata/synthetic/crio-1.30-json.log")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, ok := parseLogrus(b)
		if ok && len(l.Msg) > len(b) {
			t.Errorf("message %q longer than line %q", l.Msg, b)
		}
	})
}

// FuzzRestore: CRI-O's ruleset payload reader never panics and every
// hostport it returns has a port in range.
func FuzzRestore(f *testing.F) {
	f.Add("*nat\n:KUBE-HOSTPORTS - [0:0]\n-A KUBE-HOSTPORTS -p tcp -m comment --comment \"a_b hostport 80\" -m tcp --dport 80 -j KUBE-HP-A\n-A KUBE-HP-A -p tcp -j DNAT --to-destination 10.0.0.1:80\nCOMMIT\n")
	f.Fuzz(func(t *testing.T, payload string) {
		for _, h := range hostportsOf(payload) {
			if h.port < 0 || h.port > 65535 {
				t.Errorf("port %d out of range", h.port)
			}
		}
	})
}
