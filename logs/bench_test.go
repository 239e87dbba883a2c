package logs

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// BenchmarkRead reads a generated 64 MiB journal (short-iso and json
// blocks, 0.1% port events) from memory: the throughput of the whole path,
// scanner, framing and recognisers. The 1 GB run against grep is in
// docs/perf-events.md.
func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	if _, _, err := generateJournal(&buf, 64<<20, "mixed", 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		in := Input{Name: "bench", Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}
		if _, err := testReader().Read(context.Background(), []Input{in}); err != nil {
			b.Fatal(err)
		}
	}
}
