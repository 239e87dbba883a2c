package collect

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newTableMsg builds one NFT_MSG_NEWTABLE netlink message.
func newTableMsg(family uint8, name string) []byte {
	attr := append([]byte(name), 0)
	alen := 4 + len(attr)
	pad := (alen + 3) &^ 3
	msg := make([]byte, 16+4+pad)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], nfnlSubsysNftable<<8)
	msg[16] = family
	binary.NativeEndian.PutUint16(msg[20:], uint16(alen))
	binary.NativeEndian.PutUint16(msg[22:], nftaTableName)
	copy(msg[24:], attr)
	return msg
}

func doneMsg() []byte {
	msg := make([]byte, 20)
	binary.NativeEndian.PutUint32(msg[0:], 20)
	binary.NativeEndian.PutUint16(msg[4:], 3)
	return msg
}

func TestParseTableDump(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		want     [][2]string
		wantDone bool
	}{
		{"tables then done", append(append(newTableMsg(2, "filter"), newTableMsg(1, "kube-proxy")...), doneMsg()...),
			[][2]string{{"ip", "filter"}, {"inet", "kube-proxy"}}, true},
		{"one part of a longer dump", newTableMsg(10, "nat"), [][2]string{{"ip6", "nat"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, done, err := parseTableDump(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" || done != tc.wantDone {
				t.Errorf("got %v done=%t, want %v done=%t", got, done, tc.want, tc.wantDone)
			}
		})
	}
}

func FuzzParseTableDump(f *testing.F) {
	f.Add(append(newTableMsg(2, "filter"), doneMsg()...))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = parseTableDump(data)
	})
}
