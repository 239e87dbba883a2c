package logs

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Record is one log line with its wrapper removed: Text is the line as the
// component wrote it, Time the wrapper's timestamp (zero when the line came
// without one), Unit the journal's unit or syslog identifier.
type Record struct {
	Text []byte
	Time time.Time
	Unit string
	Host string
	File string
	Line int
}

// errTruncated marks a wrapper that is cut short: a journal JSON object that
// does not parse, a MESSAGE that is neither a string nor a byte array.
var errTruncated = errors.New("truncated line")

// errNoMessage marks journal lines that carry no component line at all
// ("-- Boot … --", "-- No entries --").
var errNoMessage = errors.New("no message")

// Frame strips the wrapper around a component's line. It recognises, in
// order: a journalctl -o json object; a leading RFC 3339 timestamp
// (journalctl -o short-iso[-precise], the CRI log file prefix "<ts>
// stdout|stderr F|P ", oc logs --timestamps); a journalctl -o short[-precise]
// "Mmm dd hh:mm:ss" prefix. Anything else (plain files, -o cat) is the
// component's line itself.
func Frame(line []byte, tc *TimeContext) (Record, error) {
	switch {
	case len(line) > 0 && line[0] == '{':
		return frameJSON(line)
	case bytes.HasPrefix(line, []byte("-- ")) && bytes.HasSuffix(line, []byte(" --")):
		return Record{}, errNoMessage
	case len(line) > 19 && line[4] == '-' && line[10] == 'T':
		if r, ok := frameISO(line); ok {
			return r, nil
		}
	case len(line) > 16 && line[3] == ' ' && line[6] == ' ':
		if r, ok := frameShort(line, tc); ok {
			return r, nil
		}
	}
	return Record{Text: line}, nil
}

// frameISO handles lines that start with an RFC 3339 timestamp.
func frameISO(line []byte) (Record, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return Record{}, false
	}
	t, ok := rfc3339(line[:sp])
	if !ok {
		return Record{}, false
	}
	rest := line[sp+1:]
	if msg, ok := criStream(rest); ok {
		return Record{Text: msg, Time: t}, true
	}
	if r, ok := syslogTail(rest); ok {
		r.Time = t
		return r, true
	}
	return Record{Text: rest, Time: t}, true
}

// criStream strips "stdout F " / "stderr P " (the CRI container log format,
// kubelet's pod log files).
func criStream(b []byte) ([]byte, bool) {
	if len(b) < 9 || b[6] != ' ' || b[8] != ' ' || (b[7] != 'F' && b[7] != 'P') {
		return nil, false
	}
	if !bytes.HasPrefix(b, []byte("stdout")) && !bytes.HasPrefix(b, []byte("stderr")) {
		return nil, false
	}
	return b[9:], true
}

// syslogTail parses "host ident[pid]: message", what journalctl prints after
// the timestamp.
func syslogTail(b []byte) (Record, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return Record{}, false
	}
	host, rest := b[:sp], b[sp+1:]
	colon := bytes.Index(rest, []byte(": "))
	if colon <= 0 || bytes.IndexByte(rest[:colon], ' ') >= 0 {
		return Record{}, false
	}
	ident := rest[:colon]
	if i := bytes.IndexByte(ident, '['); i > 0 && ident[len(ident)-1] == ']' {
		ident = ident[:i]
	}
	return Record{Text: rest[colon+2:], Unit: string(ident), Host: string(host)}, true
}

// frameShort handles journalctl -o short and short-precise: "Nov 22
// 14:13:23[.uuuuuu] host ident[pid]: message", year-less local time.
func frameShort(line []byte, tc *TimeContext) (Record, bool) {
	mon, ok := months[string(line[:3])]
	if !ok {
		return Record{}, false
	}
	day, ok := digits(line[4:6])
	if !ok || day < 1 || day > 31 {
		return Record{}, false
	}
	hh, mm, ss, ns, n, ok := clockTime(line[7:])
	if !ok || len(line) <= 7+n || line[7+n] != ' ' {
		return Record{}, false
	}
	r, ok := syslogTail(line[8+n:])
	if !ok {
		return Record{}, false
	}
	r.Time = tc.yearless(mon, day, hh, mm, ss, ns)
	return r, true
}

// journalEntry holds the journal fields exposure reads (systemd.journal-fields(7)).
type journalEntry struct {
	Message    json.RawMessage `json:"MESSAGE"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
	Unit       string          `json:"_SYSTEMD_UNIT"`
	Identifier string          `json:"SYSLOG_IDENTIFIER"`
	Hostname   string          `json:"_HOSTNAME"`
}

// frameJSON decodes one journalctl -o json object; an object with neither
// MESSAGE nor __REALTIME_TIMESTAMP is a component's JSON line, kept whole. MESSAGE is a string, or
// an array of byte values when it is not valid UTF-8 or has control
// characters; __REALTIME_TIMESTAMP is microseconds since the epoch, as a
// string.
func frameJSON(line []byte) (Record, error) {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return Record{}, errTruncated
	}
	if e.Message == nil && e.Realtime == "" {
		return Record{Text: line}, nil // a component's own JSON line (logrus JSONFormatter)
	}
	msg, err := journalMessage(e.Message)
	if err != nil {
		return Record{}, err
	}
	r := Record{Text: msg, Unit: e.Identifier, Host: e.Hostname}
	if r.Unit == "" {
		r.Unit = e.Unit
	}
	if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil {
		r.Time = time.UnixMicro(us).UTC()
	}
	return r, nil
}

func journalMessage(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errNoMessage
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s), nil
	}
	var bs []byte
	var ints []int
	if err := json.Unmarshal(raw, &ints); err != nil {
		return nil, errTruncated
	}
	for _, v := range ints {
		if v < 0 || v > 255 {
			return nil, errTruncated
		}
		bs = append(bs, byte(v))
	}
	return bs, nil
}
