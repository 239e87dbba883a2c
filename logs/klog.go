package logs

import (
	"bytes"
	"time"
)

// parseKlog reads the k8s.io/klog header "Lmmdd hh:mm:ss.uuuuuu PID
// file:line] msg" (L one of IWEF; local time; no year; PID right-aligned,
// so any run of spaces before it). It returns the time and the message.
func parseKlog(b []byte, tc *TimeContext) (time.Time, []byte, bool) {
	if len(b) < 22 || bytes.IndexByte([]byte("IWEF"), b[0]) < 0 || b[5] != ' ' {
		return time.Time{}, nil, false
	}
	mon, ok1 := digits(b[1:3])
	day, ok2 := digits(b[3:5])
	hh, mm, ss, ns, n, ok3 := clockTime(b[6:])
	if !ok1 || !ok2 || !ok3 || mon < 1 || mon > 12 || day < 1 || day > 31 {
		return time.Time{}, nil, false
	}
	end := bytes.Index(b[6+n:], []byte("] "))
	if end < 0 {
		return time.Time{}, nil, false
	}
	t := tc.yearless(time.Month(mon), day, hh, mm, ss, ns)
	return t, b[6+n+end+2:], true
}
