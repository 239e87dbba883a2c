package logs

import (
	"time"
)

// TimeContext completes timestamps that lack a year or a zone: klog headers
// ("I1122 15:40:13.883237", no year), journalctl -o short ("Nov 22 14:13:23")
// and firewalld's log file ("2026-11-22 14:13:23", local time, no zone).
type TimeContext struct {
	// Loc is the zone of zone-less timestamps; nil means time.Local, which
	// is what firewalld (Python time.strftime) and klog write.
	Loc *time.Location
	// Year, when not 0, is the year of every year-less timestamp (--year).
	Year int
	// Ref is the moment the log was last written (file mtime, or the clock
	// for stdin and the journal). A year-less timestamp gets the year that
	// puts it at or before Ref, so December lines read in January land in
	// the previous year.
	Ref time.Time
}

func (tc *TimeContext) loc() *time.Location {
	if tc == nil || tc.Loc == nil {
		return time.Local
	}
	return tc.Loc
}

// yearless builds a time from a timestamp without a year.
func (tc *TimeContext) yearless(mon time.Month, day, hh, mm, ss, ns int) time.Time {
	if tc != nil && tc.Year != 0 {
		return time.Date(tc.Year, mon, day, hh, mm, ss, ns, tc.loc())
	}
	ref := time.Now()
	if tc != nil && !tc.Ref.IsZero() {
		ref = tc.Ref
	}
	ref = ref.In(tc.loc())
	t := time.Date(ref.Year(), mon, day, hh, mm, ss, ns, tc.loc())
	if t.After(ref.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}

// local builds a time from a zone-less timestamp that has a year.
func (tc *TimeContext) local(layout string, s []byte) (time.Time, bool) {
	t, err := time.ParseInLocation(layout, string(s), tc.loc())
	return t, err == nil
}

// digits parses a fixed-width decimal field; ok is false on any non-digit.
// Leading spaces count as zeros (journalctl pads the day with a space).
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == ' ' && n == 0:
		default:
			return 0, false
		}
	}
	return n, len(b) > 0
}

// clockTime parses "hh:mm:ss" followed by an optional ".fraction"; it
// returns the fields and the number of bytes used.
func clockTime(b []byte) (hh, mm, ss, ns, n int, ok bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, 0, 0, 0, false
	}
	h, ok1 := digits(b[0:2])
	m, ok2 := digits(b[3:5])
	s, ok3 := digits(b[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, 0, 0, 0, 0, false
	}
	ns, n = fraction(b[8:])
	return h, m, s, ns, 8 + n, true
}

// fraction parses ".ddd…" into nanoseconds and returns the bytes used.
func fraction(b []byte) (ns, n int) {
	if len(b) < 2 || b[0] != '.' {
		return 0, 0
	}
	scale := 100000000
	for n = 1; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		ns += int(b[n]-'0') * scale
		scale /= 10
	}
	return ns, n
}

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// rfc3339 parses RFC 3339 timestamps as CRI-O ≥1.32, containerd, the CRI
// log file and journalctl -o short-iso write them; the zone offset may come
// with or without a colon (journalctl prints "+0000", systemd#26639).
func rfc3339(s []byte) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, string(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
