package diff

import (
	"cmp"
	"fmt"
	"slices"
)

// attributeShared decides the changes no name identifies: policies and
// built-in chains of iptables tables, and the tables themselves, which
// every component shares. The writer is the component that made most of
// the other changes in the same table (a component that creates a table's
// chains also sets the policies it needs: Docker sets FORWARD to DROP when
// it starts), else in the whole comparison, else the administrator.
func (d *differ) attributeShared() {
	global := map[Writer]int{}
	perTable := map[string]map[Writer]int{}
	for _, c := range d.changes {
		if c.Writer == "" {
			continue
		}
		global[c.Writer]++
		k := tableKey(c)
		if perTable[k] == nil {
			perTable[k] = map[Writer]int{}
		}
		perTable[k][c.Writer]++
	}
	for i := range d.changes {
		c := &d.changes[i]
		if c.Writer != "" {
			continue
		}
		c.Writer, c.WriterEvidence = dominant(perTable[tableKey(*c)], "in table "+c.Family+" "+c.Table)
		if c.Writer == "" {
			c.Writer, c.WriterEvidence = dominant(global, "in this comparison")
		}
		if c.Writer == "" {
			c.Writer, c.WriterEvidence = WriterAdmin, "no component changed anything else"
		}
	}
}

func tableKey(c Change) string { return c.Family + "\x00" + c.Table + "\x00" + c.Backend }

// dominant returns the writer with the most changes (components before the
// administrator on a tie, then by name) and the evidence sentence.
func dominant(counts map[Writer]int, where string) (Writer, string) {
	if len(counts) == 0 {
		return "", ""
	}
	ws := make([]Writer, 0, len(counts))
	for w := range counts {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(x, y Writer) int {
		return cmp.Or(-cmp.Compare(counts[x], counts[y]), cmp.Compare(isAdmin(x), isAdmin(y)), cmp.Compare(x, y))
	})
	w := ws[0]
	return w, fmt.Sprintf("changed together with %d %s change(s) %s", counts[w], w, where)
}

func isAdmin(w Writer) int {
	if w == WriterAdmin {
		return 1
	}
	return 0
}
