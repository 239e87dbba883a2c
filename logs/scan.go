package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Default limits of the line scanner.
const (
	// DefaultMaxLine is the longest line read. CRI-O writes its whole
	// hostport ruleset on one line, and firewalld its python-nftables JSON
	// blob; journald itself splits lines longer than LineMax (48 KiB by
	// default, journald.conf(5)). Longer lines are skipped and counted.
	DefaultMaxLine = 4 << 20
	chunkSize      = 1 << 20
)

// lineScanner reads a stream in large chunks and hands over only the lines
// that contain one of its needles, with their line numbers. Lines without a
// needle are never split out: a chunk is walked once through a table of
// anchor bytes and newlines are counted with bytes.Count (SIMD). Memory stays at
// one chunk plus the longest line.
type lineScanner struct {
	needles  [][]byte
	isAnchor [256]bool
	anchored [256][]anchor
	maxLine  int
	skipped  Skipped
	hits     []int
}

func newLineScanner(needles []string, maxLine int) *lineScanner {
	s := &lineScanner{maxLine: maxLine}
	if s.maxLine <= 0 {
		s.maxLine = DefaultMaxLine
	}
	s.setNeedles(needles)
	return s
}

// lineFunc receives a candidate line (without its newline) and its 1-based
// number. The slice is only valid during the call.
type lineFunc func(lineNo int, line []byte) error

// scan reads r to the end.
func (s *lineScanner) scan(r io.Reader, fn lineFunc) error {
	buf := make([]byte, 0, min(chunkSize, s.maxLine))
	lineNo, skipping := 0, false
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if skipping {
			buf, skipping = s.skipLong(buf)
			if !skipping {
				lineNo++
			}
		}
		last := bytes.LastIndexByte(buf, '\n')
		if last >= 0 {
			var ferr error
			if lineNo, ferr = s.region(buf[:last+1], lineNo, fn); ferr != nil {
				return ferr
			}
			buf = buf[:copy(buf, buf[last+1:])]
		}
		if err != nil && skipping {
			return ignoreEOF(err) // the stream ends inside a too-long line
		}
		if err != nil {
			return s.finish(buf, lineNo, err, fn)
		}
		buf, skipping = s.grow(buf, skipping)
	}
}

// grow makes room for the next read: a partial line that fills the buffer
// doubles it up to maxLine, beyond which the line is counted as too long
// and skipped up to its newline.
func (s *lineScanner) grow(buf []byte, skipping bool) ([]byte, bool) {
	if len(buf) < cap(buf) {
		return buf, skipping
	}
	if cap(buf) >= s.maxLine {
		if !skipping {
			s.skipped.TooLong++
		}
		return buf[:0], true
	}
	nb := make([]byte, len(buf), min(2*cap(buf), s.maxLine))
	copy(nb, buf)
	return nb, skipping
}

// skipLong drops the rest of a too-long line, up to and including its newline.
func (s *lineScanner) skipLong(buf []byte) ([]byte, bool) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return buf[:0], true
	}
	return buf[:copy(buf, buf[i+1:])], false
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// finish handles the end of the stream: a last line without a newline is
// still read.
func (s *lineScanner) finish(buf []byte, lineNo int, err error, fn lineFunc) error {
	if !errors.Is(err, io.EOF) {
		return err
	}
	if len(buf) == 0 {
		return nil
	}
	_, ferr := s.region(append(buf, '\n'), lineNo, fn)
	return ferr
}

// region scans complete lines; it returns the number of the last line.
func (s *lineScanner) region(reg []byte, lineNo int, fn lineFunc) (int, error) {
	if bytes.IndexByte(reg, 0) >= 0 || !utf8.Valid(reg) {
		return s.slowRegion(reg, lineNo, fn)
	}
	pos := 0
	for _, at := range s.candidates(reg) {
		if at < pos {
			continue
		}
		start := bytes.LastIndexByte(reg[:at], '\n') + 1
		end := at + bytes.IndexByte(reg[at:], '\n')
		lineNo += bytes.Count(reg[pos:start], []byte{'\n'}) + 1
		if err := fn(lineNo, reg[start:end]); err != nil {
			return lineNo, err
		}
		pos = end + 1
	}
	return lineNo + bytes.Count(reg[pos:], []byte{'\n'}), nil
}

// candidates lists, in order, one offset per line that holds a needle.
// Each line is walked once, byte by byte, through a 256-entry table of
// anchor bytes (each needle's rarest byte), so the cost does not grow with
// the number of needles; a hit is checked against the needles anchored on
// that byte. In a journalctl -o json line only the MESSAGE value is walked:
// the field names around it are upper case and would hit the anchors; a
// MESSAGE given as a byte array is always a candidate.
func (s *lineScanner) candidates(reg []byte) []int {
	s.hits = s.hits[:0]
	for pos := 0; pos < len(reg); {
		end := pos + bytes.IndexByte(reg[pos:], '\n')
		lo, hi, always := messageSpan(reg[pos:end])
		if always {
			s.hits = append(s.hits, pos)
		} else if at := s.find(reg, pos+lo, pos+hi); at >= 0 {
			s.hits = append(s.hits, at)
		}
		pos = end + 1
	}
	return s.hits
}

// find returns the offset of the first needle within reg[lo:hi], or -1.
func (s *lineScanner) find(reg []byte, lo, hi int) int {
	for i := lo; i < hi; i++ {
		if s.isAnchor[reg[i]] && s.matchAt(reg, i) {
			return i
		}
	}
	return -1
}

// messageSpan returns the part of a line to search: the MESSAGE string of
// a journal JSON object, else the whole line. always is true for a MESSAGE
// that is an array of bytes, which must be decoded to be searched.
func messageSpan(line []byte) (lo, hi int, always bool) {
	if len(line) == 0 || line[0] != '{' {
		return 0, len(line), false
	}
	i := bytes.Index(line, []byte(`"MESSAGE":`))
	if i < 0 || i+11 > len(line) {
		return 0, len(line), false
	}
	lo = i + 10
	if line[lo] == '[' {
		return 0, 0, true
	}
	return lo, lo + 1 + stringEnd(line[lo+1:]), false
}

// stringEnd returns the index of the closing quote of a JSON string body
// (or len(b) when cut).
func stringEnd(b []byte) int {
	for off := 0; ; {
		q := bytes.IndexByte(b[off:], '"')
		if q < 0 {
			return len(b)
		}
		q += off
		bs := 0
		for k := q - 1; k >= 0 && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		off = q + 1
	}
}

// matchAt reports whether a needle anchored on reg[i] occurs there.
func (s *lineScanner) matchAt(reg []byte, i int) bool {
	for _, a := range s.anchored[reg[i]] {
		start := i - a.off
		if start >= 0 && bytes.HasPrefix(reg[start:], a.needle) {
			return true
		}
	}
	return false
}

// anchor is a needle and the offset of its anchor byte.
type anchor struct {
	needle []byte
	off    int
}

// byteRarity lists printable bytes from rarest to commonest in node logs.
// It was measured on the real kube-proxy, dockerd and firewalld logs of the
// test corpus and a generated journal (short-iso and json with every field
// journalctl prints): journal field names make upper-case letters common,
// timestamps digits. Other bytes count as rarest.
const byteRarity = "^|#%~J;?&`@!VYXQq<*z>$WMH{}Kj+ZN()_\\[FOwBx,'CRLUSkPGDhyAI]9ET/vb87u5=3mfp6gcd.4la-\"snt:rio201e "

func rarity(c byte) int { return strings.IndexByte(byteRarity, c) } // -1, rarest, when not listed

// setNeedles builds the anchor table.
func (s *lineScanner) setNeedles(needles []string) {
	for _, n := range needles {
		if n == "" {
			continue
		}
		best := 0
		for i := 1; i < len(n); i++ {
			if rarity(n[i]) < rarity(n[best]) {
				best = i
			}
		}
		c := n[best]
		s.isAnchor[c] = true
		s.anchored[c] = append(s.anchored[c], anchor{needle: []byte(n), off: best})
		s.needles = append(s.needles, []byte(n))
	}
}

// slowRegion checks line by line: the chunk holds a NUL byte or invalid
// UTF-8, so the junk lines must be found and counted.
func (s *lineScanner) slowRegion(reg []byte, lineNo int, fn lineFunc) (int, error) {
	for len(reg) > 0 {
		i := bytes.IndexByte(reg, '\n')
		line := reg[:i]
		reg = reg[i+1:]
		lineNo++
		if !s.clean(line) || !s.wanted(line) {
			continue
		}
		if err := fn(lineNo, line); err != nil {
			return lineNo, err
		}
	}
	return lineNo, nil
}

// clean counts a binary (NUL byte) or invalid UTF-8 line as skipped.
func (s *lineScanner) clean(line []byte) bool {
	switch {
	case bytes.IndexByte(line, 0) >= 0:
		s.skipped.Binary++
		return false
	case !utf8.Valid(line):
		s.skipped.InvalidUTF8++
		return false
	}
	return true
}

func (s *lineScanner) wanted(line []byte) bool {
	for _, n := range s.needles {
		if bytes.Contains(line, n) {
			return true
		}
	}
	return false
}
