package nftables

import (
	"errors"
	"testing"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Fuzz seeds are small excerpts of the corpus shapes (the fuzzer
// minimizes every new input, which takes minutes on captures of tens of
// kilobytes).

// checkParsed: a parse either fails with a *ParseError or gives a ruleset
// that Validate accepts or refuses, and the simulator can be built on.
func checkParsed(t *testing.T, rs *nf.Ruleset, err error) {
	if err != nil {
		var pe *nf.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error is not a *ParseError: %T %v", err, err)
		}
		if pe.Line < 0 || pe.Col < 0 {
			t.Fatalf("bad position in %v", pe)
		}
		return
	}
	if rs == nil {
		t.Fatal("nil ruleset without an error")
	}
	_ = nf.Validate(rs)
}

// jsonSeeds are objects of the shapes nft -j prints, each appended to a
// table inet t with a nat chain c.
var jsonSeeds = []string{
	`{"map":{"family":"inet","name":"m","table":"t","type":["ipv4_addr","inet_proto","inet_service"],"map":"verdict","elem":[[{"elem":{"val":{"concat":["10.0.0.60","tcp",80]},"comment":"x"}},{"goto":{"target":"c"}}]]}}`,
	`{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"vmap":{"key":{"numgen":{"mode":"random","mod":2,"offset":0}},"data":{"set":[[0,{"accept":null}],[1,{"drop":null}]]}}}]}}`,
	`{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"match":{"op":"==","left":{"|":[{"&":[{"ct":{"key":"status"}},{"|":["snat","dnat"]}]},"snat"]},"right":"dnat"}},{"masquerade":null}]}}`,
	`{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"range":[1,1024]}}},{"dnat":{"family":"ip","addr":{"map":{"key":{"numgen":{"mode":"random","mod":2,"offset":0}},"data":{"set":[[0,"10.0.0.1"],[1,"10.0.0.2"]]}}}}}]}}`,
	`{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"match":{"op":"!=","left":{"fib":{"result":"type","flags":["daddr","iif"]}},"right":"local"}},{"counter":{"packets":1,"bytes":2}},{"reject":{"type":"icmpx","expr":"admin-prohibited"}}]}}`,
	`{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip6","field":"saddr"}},"right":{"set":[{"prefix":{"addr":"fe80::","len":10}}]}}},{"xt":{"type":"match","name":"recent"}},{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"^":[{"meta":{"key":"mark"}},16384]}}}]}}`,
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(`{"nftables":[{"metainfo":{"json_schema_version":1}},{"table":{"family":"inet","name":"t"}},` +
			`{"chain":{"family":"inet","table":"t","name":"c","type":"nat","hook":"prerouting","prio":-100}},` + s + `]}`))
	}
	f.Add([]byte(`{"nftables":[{"table":{"family":"ip","name":"t"}},{"chain":{"family":"ip","table":"t","name":"c","type":"filter","hook":"input","prio":0,"policy":"drop"}},{"rule":{"family":"ip","table":"t","chain":"c","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}},{"accept":null}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseJSON(data, "fuzz.json")
		checkParsed(t, rs, err)
	})
}

func FuzzParseText(f *testing.F) {
	f.Add(readFuzzSeed(f, "fuzzseed.txt"))
	f.Add(readFuzzSeed(f, "crio-hostports.nft"))
	f.Add([]byte("table inet t {\n\tchain c {\n\t\ttype filter hook input priority filter + 10; policy drop;\n\t\tct state established,related accept\n\t\ttcp dport { 22, 80 } counter accept\n\t}\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseText(data, "fuzz.nft")
		checkParsed(t, rs, err)
	})
}

func readFuzzSeed(f *testing.F, name string) []byte {
	data, err := readFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return data
}
