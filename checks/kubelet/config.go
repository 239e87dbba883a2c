package kubelet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/exposure-audit/exposure/checks"
	"sigs.k8s.io/yaml"
)

// Doc is one decoded KubeletConfiguration layer (the --config file, one
// --config-dir drop-in, an embedded distribution's section, or configz) as a
// generic JSON tree keyed by the v1beta1 field names.
type Doc struct {
	// Layer is where the document sits in the kubelet's precedence.
	Layer checks.Layer
	// Path is the host path (or URL) it was read from.
	Path string
	// Tree is the decoded object.
	Tree map[string]any
}

// DecodeConfig decodes a KubeletConfiguration file as the kubelet's
// configfiles loader does: YAML or JSON (sigs.k8s.io/yaml), and it must carry
// kind KubeletConfiguration (apiVersion kubelet.config.k8s.io/…); the kubelet
// refuses to start on anything else (a kubeconfig, azure.json).
func DecodeConfig(data []byte) (map[string]any, error) {
	tree, err := decodeTree(data)
	if err != nil {
		return nil, err
	}
	kind, _ := tree["kind"].(string)
	api, _ := tree["apiVersion"].(string)
	if kind != "KubeletConfiguration" || !strings.HasPrefix(api, "kubelet.config.k8s.io/") {
		return nil, fmt.Errorf("decode kubelet config: kind %q apiVersion %q is not a KubeletConfiguration", kind, api)
	}
	return tree, nil
}

// decodeTree decodes YAML or JSON into a JSON object tree, keeping numbers
// exact (json.Number).
func decodeTree(data []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	if tree == nil {
		tree = map[string]any{}
	}
	return tree, nil
}

// DecodeConfigz decodes the body of the kubelet's /configz endpoint,
// {"kubeletconfig": {…}}: the effective configuration converted to v1beta1
// with defaults filled (kubelet server.go, InstallDebuggingHandlers → configz).
func DecodeConfigz(data []byte) (map[string]any, error) {
	var body struct {
		KubeletConfig map[string]any `json:"kubeletconfig"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("decode configz: %w", err)
	}
	if body.KubeletConfig == nil {
		return nil, fmt.Errorf("decode configz: no kubeletconfig object")
	}
	return body.KubeletConfig, nil
}

// lookup returns the value at a dotted path ("authentication.anonymous.enabled")
// of tree; JSON null counts as absent, as the merge patch the kubelet applies
// to drop-ins leaves the earlier value in place for it.
func lookup(tree map[string]any, key string) (any, bool) {
	var cur any = tree
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// jsonInt is n as the decoder would have produced it.
func jsonInt(n int) json.Number { return json.Number(strconv.Itoa(n)) }
