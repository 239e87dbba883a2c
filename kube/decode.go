package kube

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/yaml"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Decode reads kubectl output into an Inventory: `kubectl get
// pods,services,endpointslices,nodes -A -o json` or `-o yaml` (a v1 List
// of any of these kinds, or the typed lists PodList, ServiceList,
// EndpointSliceList, NodeList whose items carry no kind, as the API
// returns them), single objects, multi-document YAML (`---` separated) and
// JSON streams (objects one after another). Objects of other kinds are
// skipped and counted in Inventory.Skipped. Name is the file name used in
// errors; a malformed document gives a *netfilter.ParseError with File,
// Line and Col (1-based) where the decoder can tell them.
func Decode(name string, data []byte) (*Inventory, error) {
	d := &decoder{name: name, data: data, inv: &Inventory{}}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var err error
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		err = d.jsonStream()
	} else {
		err = d.yamlDocs()
	}
	if err != nil {
		return nil, err
	}
	out := &Inventory{}
	out.Add(d.inv)
	return out, nil
}

// decoder holds one input being decoded.
type decoder struct {
	name string
	data []byte
	inv  *Inventory
}

// errf returns a ParseError at byte offset off of the input.
func (d *decoder) errf(off int, err error) error {
	line, col := lineCol(d.data, off)
	return &nf.ParseError{File: d.name, Line: line, Col: col, Text: lineText(d.data, off), Err: err}
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int) (int, int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, off - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// lineText returns the line holding byte offset off.
func lineText(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	end := bytes.IndexByte(data[off:], '\n')
	if end < 0 {
		return string(data[start:])
	}
	return string(data[start : off+end])
}

// jsonStream decodes concatenated JSON values (objects, or arrays of
// objects).
func (d *decoder) jsonStream() error {
	dec := json.NewDecoder(bytes.NewReader(d.data))
	for {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return d.errf(jsonErrOffset(err, start), fmt.Errorf("decode json: %w", err))
		}
		start += len(d.data[start:]) - len(bytes.TrimLeft(d.data[start:], " \t\r\n"))
		if err := d.value(raw, start, ""); err != nil {
			return err
		}
	}
}

// jsonErrOffset returns where encoding/json located an error.
func jsonErrOffset(err error, start int) int {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return int(se.Offset) - 1
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return int(te.Offset) - 1
	}
	return start
}

// yamlLineRE finds the line yaml.v3 reports ("yaml: line 3: ...").
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlDocs splits multi-document YAML at "---" lines and decodes each.
func (d *decoder) yamlDocs() error {
	off := 0
	for _, doc := range splitYAML(d.data) {
		if err := d.yamlDoc(doc, off); err != nil {
			return err
		}
		off += len(doc)
	}
	return nil
}

// splitYAML cuts data before every line starting with "---" (each piece
// keeps its separator line, so offsets add up).
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		if i > start && bytes.HasPrefix(data[i:], []byte("---")) {
			docs = append(docs, data[start:i])
			start = i
		}
		i = next
	}
	return append(docs, data[start:])
}

// yamlDoc decodes one YAML document starting at byte offset off.
func (d *decoder) yamlDoc(doc []byte, off int) error {
	body := doc
	if bytes.HasPrefix(body, []byte("---")) {
		if nl := bytes.IndexByte(body, '\n'); nl >= 0 {
			body = body[nl+1:]
		} else {
			body = nil
		}
	}
	skip := len(doc) - len(body)
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		at := off + skip
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			at = lineStart(d.data, at, n-1)
		}
		return d.errf(at, fmt.Errorf("decode yaml: %w", err))
	}
	if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
		return nil
	}
	return d.value(js, off+skip, "")
}

// lineStart returns the offset of the line n lines after the one at off.
func lineStart(data []byte, off, n int) int {
	for ; n > 0 && off < len(data); n-- {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return off
		}
		off += nl + 1
	}
	return off
}

// header is what every object and list starts with.
type header struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Items      []json.RawMessage `json:"items"`
}

// value decodes one JSON value at offset off: an array of objects, a list
// or an object; itemKind is the kind of a typed list's items.
func (d *decoder) value(raw []byte, off int, itemKind string) error {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			return d.errf(off, fmt.Errorf("decode array: %w", err))
		}
		return d.items(items, off, "")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return d.errf(off, fmt.Errorf("decode object: %w", err))
	}
	kind := h.Kind
	if kind == "" {
		kind = itemKind
	}
	if kind == "List" || strings.HasSuffix(kind, "List") && h.Items != nil {
		return d.items(h.Items, off, strings.TrimSuffix(kind, "List"))
	}
	if err := d.inv.object(kind, h.APIVersion, raw); err != nil {
		return d.errf(off, err)
	}
	return nil
}

// items decodes the items of a list.
func (d *decoder) items(items []json.RawMessage, off int, kind string) error {
	for _, it := range items {
		if err := d.value(it, off, kind); err != nil {
			return err
		}
	}
	return nil
}

// object decodes one object of a known kind into the inventory, or counts
// it as skipped.
func (inv *Inventory) object(kind, apiVersion string, raw []byte) error {
	var err error
	switch {
	case kind == "Pod" && coreGroup(apiVersion):
		var p corev1.Pod
		if err = json.Unmarshal(raw, &p); err == nil {
			inv.Pods = append(inv.Pods, p)
		}
	case kind == "Service" && coreGroup(apiVersion):
		var s corev1.Service
		if err = json.Unmarshal(raw, &s); err == nil {
			inv.Services = append(inv.Services, s)
		}
	case kind == "Node" && coreGroup(apiVersion):
		var n corev1.Node
		if err = json.Unmarshal(raw, &n); err == nil {
			inv.Nodes = append(inv.Nodes, n)
		}
	case kind == "EndpointSlice" && (apiVersion == "" || strings.HasPrefix(apiVersion, "discovery.k8s.io/")):
		var s discoveryv1.EndpointSlice
		if err = json.Unmarshal(raw, &s); err == nil {
			inv.EndpointSlices = append(inv.EndpointSlices, s)
		}
	default:
		if inv.Skipped == nil {
			inv.Skipped = map[string]int{}
		}
		inv.Skipped[cmp.Or(kind, "(no kind)")]++
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", kind, err)
	}
	return nil
}

// coreGroup reports whether apiVersion is the core group's ("v1", or
// absent in a typed list's items).
func coreGroup(apiVersion string) bool { return apiVersion == "" || apiVersion == "v1" }
