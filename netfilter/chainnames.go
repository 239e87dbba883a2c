package netfilter

// chainNames finds a table's chains by name: an open-addressing hash
// table of positions in Table.Chains. A Go map[string]*Chain keeps a copy
// of every key and a pointer (24 bytes a slot, ~4 MB for the 110,000
// chains of a 10k-Service kube-proxy dump); this keeps a 4-byte position
// and compares the name the chain itself holds (1 MB there).
type chainNames struct {
	// slots hold position+1 in Table.Chains; 0 is empty. Their number is
	// a power of two, at least twice the chains (linear probing stays
	// short at that load).
	slots []int32
}

// fnv1a hashes a chain name (FNV-1a, 64 bits): chain names are short, and
// kube-proxy's are already hashes, so a simple hash spreads them well.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// find returns the position of the chain named name in chains, or -1.
func (n *chainNames) find(chains []*Chain, name string) int {
	if len(n.slots) == 0 {
		return -1
	}
	mask := uint64(len(n.slots) - 1)
	for i := fnv1a(name) & mask; ; i = (i + 1) & mask {
		p := n.slots[i]
		if p == 0 {
			return -1
		}
		if chains[p-1].Name == name {
			return int(p - 1)
		}
	}
}

// add records that chains[pos] holds its name; the name must not be there
// yet. It grows the table when it would be more than half full.
func (n *chainNames) add(chains []*Chain, pos int) {
	if 2*(pos+1) > len(n.slots) {
		n.rebuild(chains[:pos], 2*(pos+1))
	}
	n.put(chains[pos].Name, pos)
}

func (n *chainNames) put(name string, pos int) {
	mask := uint64(len(n.slots) - 1)
	i := fnv1a(name) & mask
	for n.slots[i] != 0 {
		i = (i + 1) & mask
	}
	n.slots[i] = int32(pos + 1)
}

// rebuild makes room for at least want chains and records chains again
// (after a removal shifted their positions, or to grow).
func (n *chainNames) rebuild(chains []*Chain, want int) {
	size := 16
	for size < 2*want {
		size *= 2
	}
	n.slots = make([]int32, size)
	for i, c := range chains {
		n.put(c.Name, i)
	}
}
