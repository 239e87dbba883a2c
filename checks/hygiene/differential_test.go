package hygiene

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/iptables"
)

// TestReadSaveMatchesParser reads each capture with ReadSave and with the
// project's iptables front-end through FromRuleset: both must give the same
// hygiene view (tables, chains, rules, targets, backends).
func TestReadSaveMatchesParser(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*save.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ReadSave(f, data)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := iptables.Parse(data, iptables.Options{File: f})
			if err != nil {
				t.Fatalf("iptables.Parse: %v", err)
			}
			got := FromRuleset(rs).WithBackend(HeaderBackend(data))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FromRuleset(iptables.Parse) vs ReadSave (-ReadSave +FromRuleset):\n%s", diff)
			}
		})
	}
}
