package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"4.2.9", "4.2.10", -1}, {"4.2.6", "4.2.6", 0}, {"3.2.7", "4.2.1", -1},
		{"4.2.1", "kubelet-bind", -1}, {"kubelet-bind", "kubelet-source", -1}, {"7.8", "7.8.1", -1},
	}
	for _, tc := range tests {
		t.Run(tc.a+" "+tc.b, func(t *testing.T) {
			if got := CompareIDs(tc.a, tc.b); got != tc.want {
				t.Errorf("CompareIDs(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestSortAndSummarize(t *testing.T) {
	r := Report{Results: []Result{
		{ID: "restore-iptables", Group: "hygiene", Status: Fail},
		{ID: "4.2.10", Group: "kubelet", Status: Pass},
		{ID: "kubelet-bind", Group: "kubelet", Status: Info},
		{ID: "4.2.2", Group: "kubelet", Status: Error},
		{ID: "admin-rules", Group: "hygiene", Status: Warn},
	}}
	r.Sort()
	var ids []string
	for _, res := range r.Results {
		ids = append(ids, res.ID)
	}
	if diff := cmp.Diff([]string{"4.2.2", "4.2.10", "kubelet-bind", "admin-rules", "restore-iptables"}, ids); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Summary{Pass: 1, Fail: 1, Warn: 1, Info: 1, Error: 1}, r.Summarize()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if !r.HasFailure() {
		t.Errorf("HasFailure: got false, want true")
	}
	empty := Report{}
	empty.Sort()
	if empty.Results == nil {
		t.Errorf("Sort on an empty report: got nil results, want []")
	}
}
