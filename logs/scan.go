package logs

import (
	"bytes"
	"errors"
	"io"
	"slices"
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
// needle are never split out: a chunk is searched with bytes.Index (SIMD on
// amd64/arm64) and newlines are counted with bytes.Count. Memory stays at
// one chunk plus the longest line.
type lineScanner struct {
	needles [][]byte
	maxLine int
	skipped Skipped
	hits    []int
}

func newLineScanner(needles []string, maxLine int) *lineScanner {
	s := &lineScanner{maxLine: maxLine}
	if s.maxLine <= 0 {
		s.maxLine = DefaultMaxLine
	}
	for _, n := range needles {
		s.needles = append(s.needles, []byte(n))
	}
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

// candidates lists the offsets of every needle in reg, sorted.
func (s *lineScanner) candidates(reg []byte) []int {
	s.hits = s.hits[:0]
	for _, n := range s.needles {
		for off := 0; ; {
			i := bytes.Index(reg[off:], n)
			if i < 0 {
				break
			}
			s.hits = append(s.hits, off+i)
			off += i + len(n)
			// Skip the rest of this line: one hit per line is enough.
			if j := bytes.IndexByte(reg[off:], '\n'); j >= 0 {
				off += j
			}
		}
	}
	slices.Sort(s.hits)
	return s.hits
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
