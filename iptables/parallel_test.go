package iptables

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/internal/gen/kubeproxy"
	nf "github.com/exposure-audit/exposure/netfilter"
)

// bigDump is a kube-proxy dump over the parallel threshold.
func bigDump(t *testing.T) string {
	t.Helper()
	svcs, err := kubeproxy.Scale(800, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := kubeproxy.IPTablesSave(&b, kubeproxy.ScaleNode(), svcs, kubeproxy.Options{Comments: kubeproxy.CommentsAlways, Counters: true}); err != nil {
		t.Fatal(err)
	}
	if b.Len() < minParallel {
		t.Fatalf("dump of %d bytes is under the parallel threshold", b.Len())
	}
	return b.String()
}

// TestParallelEqualsSequential: parsing rule lines in parallel gives the
// same ruleset, and the same first error, as one goroutine.
func TestParallelEqualsSequential(t *testing.T) {
	dump := bigDump(t)
	// Commands other than -A in the middle of the rules: queued rules must
	// be attached before them.
	lines := strings.Split(dump, "\n")
	for i, l := range lines {
		if i > len(lines)/2 && strings.HasPrefix(l, "[0:0] -A KUBE-SEP-") {
			chain := strings.Fields(l)[2]
			lines[i] = l + "\n-I " + chain + " 1 -j RETURN\n-D " + chain + " 2\n-I " + chain + " 2 -p udp -j ACCEPT"
			break
		}
	}
	dump = strings.Join(lines, "\n")
	par, err1 := Parse([]byte(dump), Options{File: "big"})
	seq, err2 := Parse([]byte(dump), Options{File: "big", Sequential: true})
	if err1 != nil || err2 != nil {
		t.Fatalf("parse: %v / %v", err1, err2)
	}
	if diff := cmp.Diff(saveView(seq), saveView(par)); diff != "" {
		t.Errorf("parallel parse differs (-sequential +parallel):\n%s", diff)
	}
	// Two bad lines: the earlier one must be reported, as sequentially.
	lines = strings.Split(dump, "\n")
	bad := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "[0:0] -A KUBE-SEP-") {
			lines[i] = l + " --bogus"
			if bad++; bad == 2 {
				break
			}
		}
	}
	lines[len(lines)/2] += "\x01"
	broken := []byte(strings.Join(lines, "\n"))
	_, perr := Parse(broken, Options{File: "big"})
	_, serr := Parse(broken, Options{File: "big", Sequential: true})
	var pe, se *nf.ParseError
	if !errors.As(perr, &pe) || !errors.As(serr, &se) || pe.Line != se.Line || pe.Col != se.Col {
		t.Errorf("first error: parallel %v, sequential %v", perr, serr)
	}
}
