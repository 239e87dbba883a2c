package diff

// opKind is one step of an edit script.
type opKind uint8

const (
	opEqual opKind = iota
	opDelete
	opInsert
)

// edit is one step: for opEqual, a[I] and b[J] are the same; opDelete
// removes a[I]; opInsert adds b[J].
type edit struct {
	Op   opKind
	I, J int
}

// align returns a shortest edit script turning a into b (a longest common
// subsequence of equal items), by Myers' O(ND) greedy algorithm ("An O(ND)
// Difference Algorithm and Its Variations", 1986) after trimming the common
// prefix and suffix. Deletions come before insertions within each gap.
func align(a, b []int) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for i := 0; i < pre; i++ {
		out = append(out, edit{opEqual, i, i})
	}
	for _, e := range myers(a[pre:len(a)-suf], b[pre:len(b)-suf]) {
		out = append(out, edit{e.Op, e.I + pre, e.J + pre})
	}
	for k := suf; k > 0; k-- {
		out = append(out, edit{opEqual, len(a) - k, len(b) - k})
	}
	return out
}

// maxEdits bounds the edit distance myers searches: its trace grows with
// the square of the distance (64 MiB at the bound). Beyond it, two lists
// that share almost nothing are reported as all deleted and all inserted,
// and the move and change pairing that follows still finds what they share.
const maxEdits = 4096

// myers runs the forward greedy search, keeping each round's furthest
// reaching paths, then walks back from the end.
func myers(a, b []int) []edit {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return onlyEdits(n, m)
	}
	lim := min(n+m, maxEdits)
	off := lim + 1
	v := make([]int32, 2*lim+3)
	var trace [][]int32
	for d := 0; d <= lim; d++ {
		for k := -d; k <= d; k += 2 {
			x := furthest(v, off, k, d)
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				trace = append(trace, snapshot(v, off, d))
				return backtrack(trace, n, m)
			}
		}
		trace = append(trace, snapshot(v, off, d))
	}
	return onlyEdits(n, m)
}

// furthest picks the better of the two diagonals a path can come from.
func furthest(v []int32, off, k, d int) int {
	if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
		return int(v[off+k+1])
	}
	return int(v[off+k-1]) + 1
}

// snapshot keeps the part of v that round d wrote (diagonals -d..d).
func snapshot(v []int32, off, d int) []int32 {
	s := make([]int32, 2*d+1)
	copy(s, v[off-d:off+d+1])
	return s
}

// at reads diagonal k from round d's snapshot.
func at(trace [][]int32, d, k int) int { return int(trace[d][k+d]) }

func backtrack(trace [][]int32, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		k := x - y
		pk := k - 1
		if k == -d || (k != d && at(trace, d-1, k-1) < at(trace, d-1, k+1)) {
			pk = k + 1
		}
		px := at(trace, d-1, pk)
		py := px - pk
		for x > px && y > py {
			x, y = x-1, y-1
			rev = append(rev, edit{opEqual, x, y})
		}
		if pk == k+1 {
			rev = append(rev, edit{opInsert, px, py})
		} else {
			rev = append(rev, edit{opDelete, px, py})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{opEqual, x, y})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return deletesFirst(out)
}

// deletesFirst orders each gap between equal steps as its deletions, then
// its insertions, keeping their relative order.
func deletesFirst(es []edit) []edit {
	out := make([]edit, 0, len(es))
	var ins []edit
	for _, e := range es {
		switch e.Op {
		case opInsert:
			ins = append(ins, e)
			continue
		case opEqual:
			out = append(out, ins...)
			ins = ins[:0]
		}
		out = append(out, e)
	}
	return append(out, ins...)
}

func onlyEdits(n, m int) []edit {
	out := make([]edit, 0, n+m)
	for i := 0; i < n; i++ {
		out = append(out, edit{opDelete, i, 0})
	}
	for j := 0; j < m; j++ {
		out = append(out, edit{opInsert, n, j})
	}
	return out
}
