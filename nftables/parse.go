package nftables

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Parser reads nftables rulesets; it satisfies collect.NftParser. The zero
// value is ready to use and safe for concurrent use.
type Parser struct{}

// ParseJSON reads `nft -j list ruleset` output (libnftables-json(5),
// json_schema_version 1), or a JSON command batch (`nft -j -f`) made of
// add/create/insert objects. It does not validate: call
// netfilter.Validate.
func (Parser) ParseJSON(data []byte, file string) (*nf.Ruleset, error) { return ParseJSON(data, file) }

// ParseText reads `nft list ruleset` output or an `nft -f` script (table
// blocks, add/create/insert/flush commands). It does not validate.
func (Parser) ParseText(data []byte, file string) (*nf.Ruleset, error) { return ParseText(data, file) }

// ParseJSON is Parser.ParseJSON.
func ParseJSON(data []byte, file string) (*nf.Ruleset, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc struct {
		Nftables []any `json:"nftables"`
	}
	if err := dec.Decode(&doc); err != nil {
		line, col := offsetPos(data, dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col = offsetPos(data, se.Offset)
		}
		return nil, &nf.ParseError{File: file, Line: line, Col: col, Err: fmt.Errorf("decode nft JSON: %w", err)}
	}
	if doc.Nftables == nil {
		return nil, &nf.ParseError{File: file, Line: 1, Err: errors.New(`decode nft JSON: no "nftables" array`)}
	}
	b := newBuilder(file)
	for i, n := range doc.Nftables {
		if err := b.applyJSON(i+1, n); err != nil {
			return nil, err
		}
	}
	return b.finish(), nil
}

// offsetPos turns a byte offset into a 1-based line and column.
func offsetPos(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// applyJSON applies the object at 1-based index i of the array.
func (b *builder) applyJSON(i int, n any) error {
	it := item{line: i}
	k, v, ok := single(n)
	if !ok {
		return b.errAt(it, fmt.Errorf("expected an object with one key, got %s", brief(n)))
	}
	switch k {
	case "add", "create", "insert":
		it.insert = k == "insert"
		if k, v, ok = single(v); !ok {
			return b.errAt(it, fmt.Errorf("%s: expected one object", k))
		}
	case "flush":
		if err := b.flushJSON(v); err != nil {
			return b.errAt(it, err)
		}
		return nil
	}
	m, ok := obj(v)
	if !ok && v != nil {
		return b.errAt(it, fmt.Errorf("%s: expected an object, got %s", k, brief(v)))
	}
	it.kind, it.obj = k, m
	return b.apply(it)
}

// flushJSON handles {"flush": {"ruleset": null}} and flushes of tables
// and chains.
func (b *builder) flushJSON(v node) error {
	k, x, ok := single(v)
	if !ok {
		return errors.New("flush: expected one object")
	}
	m, _ := obj(x)
	return b.flush(k, m)
}

// flush empties the ruleset, a table or a chain, as `nft flush` does.
func (b *builder) flush(what string, m map[string]any) error {
	switch what {
	case "ruleset":
		b.rs.Tables, b.tables = nil, map[string]*nf.Table{}
		return nil
	case "table":
		t, err := b.table(map[string]any{"family": m["family"], "table": m["name"]})
		if err != nil {
			return fmt.Errorf("flush table: %w", err)
		}
		for _, c := range t.Chains {
			c.Rules = nil
		}
		return nil
	case "chain":
		_, c, err := b.chainOf(map[string]any{"family": m["family"], "table": m["table"], "chain": m["name"]})
		if err != nil {
			return fmt.Errorf("flush chain: %w", err)
		}
		c.Rules = nil
		return nil
	}
	return fmt.Errorf("flush %s is not supported", what)
}
