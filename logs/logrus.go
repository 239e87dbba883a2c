package logs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// logrusLine is a line of sirupsen/logrus, the logger of CRI-O and dockerd.
type logrusLine struct {
	Time  time.Time // zero when the line has no parsable time
	Level string
	Msg   string
	Rest  []byte // the fields after msg (TextFormatter only)
}

// parseLogrus reads logrus TextFormatter lines (`time="…" level=info
// msg="…" k=v…`, values %q-quoted when they need it) and JSONFormatter lines
// (`{"level":…,"msg":…,"time":…}`). CRI-O ≤1.31 writes the time as
// "2006-01-02 15:04:05.000000000Z07:00", CRI-O ≥1.32 and dockerd RFC 3339.
func parseLogrus(b []byte) (logrusLine, bool) {
	if len(b) > 0 && b[0] == '{' {
		return parseLogrusJSON(b)
	}
	var l logrusLine
	for len(b) > 0 {
		key, val, rest, ok := nextField(b)
		if !ok {
			break
		}
		switch key {
		case "time":
			l.Time, _ = logrusTime(val)
		case "level":
			l.Level = val
		case "msg":
			l.Msg = val
			l.Rest = rest
			return l, true
		}
		b = rest
	}
	return l, false
}

// nextField splits `key=value ` off b; value may be a Go-quoted string.
func nextField(b []byte) (key, val string, rest []byte, ok bool) {
	eq := bytes.IndexByte(b, '=')
	if eq <= 0 || bytes.IndexByte(b[:eq], ' ') >= 0 {
		return "", "", nil, false
	}
	key, b = string(b[:eq]), b[eq+1:]
	if len(b) > 0 && b[0] == '"' {
		end := quotedEnd(b)
		if end < 0 {
			return "", "", nil, false
		}
		s, err := strconv.Unquote(string(b[:end]))
		if err != nil {
			return "", "", nil, false
		}
		return key, s, bytes.TrimLeft(b[end:], " "), true
	}
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return key, string(b), nil, true
	}
	return key, string(b[:sp]), b[sp+1:], true
}

// quotedEnd returns the index just past the closing quote of the Go string
// literal at the start of b, or -1.
func quotedEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

func parseLogrusJSON(b []byte) (logrusLine, bool) {
	var j struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Time  string `json:"time"`
	}
	if json.Unmarshal(b, &j) != nil || j.Msg == "" {
		return logrusLine{}, false
	}
	t, _ := logrusTime(j.Time)
	return logrusLine{Time: t, Level: j.Level, Msg: j.Msg}, true
}

func logrusTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
