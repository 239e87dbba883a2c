package logs

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFrame(t *testing.T) {
	tc := &TimeContext{Loc: time.UTC, Ref: testRef}
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name string
		line string
		want Record
		err  error
	}{
		{"short-iso without colon (systemd#26639)", "2024-06-25T08:27:37+0000 node1 crio[12]: msg text",
			Record{Text: []byte("msg text"), Time: utc("2024-06-25T08:27:37Z"), Unit: "crio", Host: "node1"}, nil},
		{"short-iso with colon", "2024-06-25T10:27:37+02:00 node1 crio[12]: msg text",
			Record{Text: []byte("msg text"), Time: utc("2024-06-25T08:27:37Z"), Unit: "crio", Host: "node1"}, nil},
		{"short-iso-precise", "2024-06-25T08:27:37.123456+0000 node1 systemd[1]: Started x.",
			Record{Text: []byte("Started x."), Time: utc("2024-06-25T08:27:37.123456Z"), Unit: "systemd", Host: "node1"}, nil},
		{"short, year from reference", "Nov 22 14:13:23 node1 firewalld[7]: DEBUG1: start()",
			Record{Text: []byte("DEBUG1: start()"), Time: utc("2026-11-22T14:13:23Z"), Unit: "firewalld", Host: "node1"}, nil},
		{"short, December read in November goes back a year", "Dec 31 23:59:59 node1 kernel: hello",
			Record{Text: []byte("hello"), Time: utc("2025-12-31T23:59:59Z"), Unit: "kernel", Host: "node1"}, nil},
		{"short-precise, space-padded day", "Jan  2 00:00:01.250000 node1 ovnkube[9]: x",
			Record{Text: []byte("x"), Time: utc("2026-01-02T00:00:01.25Z"), Unit: "ovnkube", Host: "node1"}, nil},
		{"CRI log file", "2024-02-10T09:15:00.123456789+00:00 stderr F I0210 rest",
			Record{Text: []byte("I0210 rest"), Time: utc("2024-02-10T09:15:00.123456789Z")}, nil},
		{"CRI partial line", "2024-02-10T09:15:00Z stdout P part",
			Record{Text: []byte("part"), Time: utc("2024-02-10T09:15:00Z")}, nil},
		{"oc logs --timestamps", "2024-02-10T09:15:00.5Z I0210 09:15:00.500000 1 x.go:1] m",
			Record{Text: []byte("I0210 09:15:00.500000 1 x.go:1] m"), Time: utc("2024-02-10T09:15:00.5Z")}, nil},
		{"firewalld own format is plain", "2026-11-22 14:13:23 DEBUG1: start()",
			Record{Text: []byte("2026-11-22 14:13:23 DEBUG1: start()")}, nil},
		{"cat", "time=\"x\" level=info msg=\"y\"", Record{Text: []byte("time=\"x\" level=info msg=\"y\"")}, nil},
		{"json string MESSAGE", `{"__REALTIME_TIMESTAMP":"1719304057000001","_SYSTEMD_UNIT":"crio.service","SYSLOG_IDENTIFIER":"crio","_HOSTNAME":"n","MESSAGE":"hi"}`,
			Record{Text: []byte("hi"), Time: utc("2024-06-25T08:27:37.000001Z"), Unit: "crio", Host: "n"}, nil},
		{"json byte-array MESSAGE", `{"__REALTIME_TIMESTAMP":"1719304057000000","_SYSTEMD_UNIT":"crio.service","MESSAGE":[104,105,27]}`,
			Record{Text: []byte("hi\x1b"), Time: utc("2024-06-25T08:27:37Z"), Unit: "crio.service"}, nil},
		{"json component line kept whole", `{"level":"info","msg":"m","time":"t"}`,
			Record{Text: []byte(`{"level":"info","msg":"m","time":"t"}`)}, nil},
		{"json truncated", `{"__REALTIME_TIMESTAMP":"1","MESSAGE":"cut`, Record{}, errTruncated},
		{"json byte out of range", `{"__REALTIME_TIMESTAMP":"1","MESSAGE":[300]}`, Record{}, errTruncated},
		{"journal boot marker", "-- Boot 0123 --", Record{}, errNoMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Frame([]byte(tt.line), tc)
			if !errors.Is(err, tt.err) {
				t.Fatalf("got error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestYearless(t *testing.T) {
	tests := []struct {
		name string
		tc   TimeContext
		mon  time.Month
		want int
	}{
		{"explicit --year wins", TimeContext{Loc: time.UTC, Year: 2020, Ref: testRef}, time.December, 2020},
		{"same year as reference", TimeContext{Loc: time.UTC, Ref: testRef}, time.March, 2026},
		{"month after reference is last year", TimeContext{Loc: time.UTC, Ref: testRef}, time.December, 2025},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tc.yearless(tt.mon, 1, 0, 0, 0, 0).Year(); got != tt.want {
				t.Errorf("got year %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTimeZoneHonoured(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata: ", err)
	}
	tc := &TimeContext{Loc: ny, Ref: testRef}
	got, _, _, ok := firewalldLine([]byte("2026-11-22 09:00:00 DEBUG1: start()"), tc)
	if !ok {
		t.Fatal("firewalld line not read")
	}
	if want := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got.UTC(), want)
	}
}
