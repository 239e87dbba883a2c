package kubelet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"spaces and tabs", "a  b\tc", []string{"a", "b", "c"}, false},
		{"double quotes keep spaces", `KUBELET_ARGS="--a=1 --b=2" x`, []string{"KUBELET_ARGS=--a=1 --b=2", "x"}, false},
		{"single quotes literal", `'a "b" \c'`, []string{`a "b" \c`}, false},
		{"backslash escapes", `a\ b c\"d`, []string{"a b", `c"d`}, false},
		{"escaped quote in double quotes", `"a\"b"`, []string{`a"b`}, false},
		{"empty quoted word", `"" x`, []string{"", "x"}, false},
		{"unterminated", `"abc`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitWords(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SplitWords(%q): got error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SplitWords(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`a "b c" 'd'`, `x\ y`, `"unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitWords(s)
		if err != nil {
			return
		}
		for _, w := range words {
			if len(w) > len(s) {
				t.Fatalf("word %q longer than input %q", w, s)
			}
		}
	})
}
