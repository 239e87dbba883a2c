package kubelet

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/exposure-audit/exposure/checks"
)

// valueKind is the Go type of a KubeletConfiguration field, which decides how
// a flag value and a config value are parsed.
type valueKind int

const (
	boolKind valueKind = iota
	stringKind
	intKind
)

// Field is one kubelet setting the checks read: its v1beta1 configuration
// key, its command-line flag, and its two defaults.
type Field struct {
	// Key is the dotted JSON path in KubeletConfiguration (v1beta1).
	Key string
	// Flag is the kubelet's command-line flag for it, without dashes.
	Flag string
	kind valueKind
	// FileDefault is the v1beta1 default (SetDefaults_KubeletConfiguration),
	// which applies when the kubelet runs with --config.
	FileDefault string
	// FlagDefault is the legacy default that applies without --config
	// (cmd/kubelet/app/options: applyLegacyDefaults).
	FlagDefault string
}

// The fields the kubelet checks read.
var (
	MakeIPTablesUtilChains = Field{Key: "makeIPTablesUtilChains", Flag: "make-iptables-util-chains", kind: boolKind, FileDefault: "true", FlagDefault: "true"}
	AnonymousAuth          = Field{Key: "authentication.anonymous.enabled", Flag: "anonymous-auth", kind: boolKind, FileDefault: "false", FlagDefault: "true"}
	AuthorizationMode      = Field{Key: "authorization.mode", Flag: "authorization-mode", kind: stringKind, FileDefault: "Webhook", FlagDefault: "AlwaysAllow"}
	ClientCAFile           = Field{Key: "authentication.x509.clientCAFile", Flag: "client-ca-file", kind: stringKind}
	ReadOnlyPort           = Field{Key: "readOnlyPort", Flag: "read-only-port", kind: intKind, FileDefault: "0", FlagDefault: "10255"}
	Address                = Field{Key: "address", Flag: "address", kind: stringKind, FileDefault: "0.0.0.0", FlagDefault: "0.0.0.0"}
	Port                   = Field{Key: "port", Flag: "port", kind: intKind, FileDefault: "10250", FlagDefault: "10250"}
)

// Setting is the value the kubelet ends up with for a Field and the layer
// that decided it.
type Setting struct {
	// Field is the setting decided.
	Field Field
	// Value is normalised: "true"/"false", a decimal number, or the string.
	Value string
	// Layer is the precedence layer that decided it.
	Layer checks.Layer
	// Path is the file, URL or command-line origin of the deciding layer.
	Path string
}

// Config is every layer of a kubelet's configuration, lowest precedence
// first, ready to answer for any Field.
type Config struct {
	// Args is the kubelet command line (top precedence).
	Args Args
	// Origin names where each argv element came from (same length as the
	// argv Args was parsed from), for evidence.
	Origin []string
	// Docs are the --config file, then the --config-dir drop-ins in the order
	// the kubelet merges them (or a single configz document).
	Docs []Doc
	// Defaults, when set, replaces the kubelet's built-in defaults (an
	// embedding distribution's own settings).
	Defaults *Doc
	// Legacy is true when the kubelet runs without --config, so the legacy
	// flag defaults apply.
	Legacy bool
	// Configz is true when Docs holds the running kubelet's /configz view,
	// which already reflects flags, files and defaults.
	Configz bool
}

// Get decides f as the kubelet does: configz when available; otherwise the
// last command-line occurrence, then the last document setting it, then the
// defaults.
func (c Config) Get(f Field) (Setting, error) {
	if !c.Configz {
		if fl, ok := c.Args.Last(f.Flag); ok {
			v, err := flagValue(f, fl.Value)
			return Setting{Field: f, Value: v, Layer: checks.LayerFlag, Path: c.origin(fl.Index)}, err
		}
	}
	for i := len(c.Docs) - 1; i >= 0; i-- {
		if raw, ok := lookup(c.Docs[i].Tree, f.Key); ok {
			v, err := docValue(f, raw)
			if err != nil {
				err = fmt.Errorf("read %s in %s: %w", f.Key, c.Docs[i].Path, err)
			}
			return Setting{Field: f, Value: v, Layer: c.Docs[i].Layer, Path: c.Docs[i].Path}, err
		}
	}
	return c.defaultFor(f)
}

// defaultFor returns the default that applies to f.
func (c Config) defaultFor(f Field) (Setting, error) {
	if c.Configz {
		// configz omits zero values (omitempty), which are the defaults.
		return Setting{Field: f, Value: f.FileDefault, Layer: checks.LayerConfigz, Path: c.Docs[0].Path}, nil
	}
	if c.Defaults != nil {
		if raw, ok := lookup(c.Defaults.Tree, f.Key); ok {
			v, err := docValue(f, raw)
			return Setting{Field: f, Value: v, Layer: checks.LayerDefault, Path: c.Defaults.Path}, err
		}
	}
	if c.Legacy {
		return Setting{Field: f, Value: f.FlagDefault, Layer: checks.LayerDefault, Path: "kubelet built-in (no --config)"}, nil
	}
	return Setting{Field: f, Value: f.FileDefault, Layer: checks.LayerDefault, Path: "kubelet built-in (KubeletConfiguration v1beta1)"}, nil
}

func (c Config) origin(i int) string {
	if i < len(c.Origin) && c.Origin[i] != "" {
		return c.Origin[i]
	}
	return "command line"
}

// flagValue parses a flag value as pflag's typed Set would.
func flagValue(f Field, s string) (string, error) {
	switch f.kind {
	case boolKind:
		b, err := ParseBool(s)
		if err != nil {
			return s, fmt.Errorf("flag --%s: %w", f.Flag, err)
		}
		return strconv.FormatBool(b), nil
	case intKind:
		n, err := strconv.ParseInt(s, 0, 32)
		if err != nil {
			return s, fmt.Errorf("flag --%s: parse int %q: invalid syntax", f.Flag, s)
		}
		return strconv.FormatInt(n, 10), nil
	}
	return s, nil
}

// docValue checks the JSON type of a configuration value as the kubelet's
// decoder would (a quoted "false" is not a bool).
func docValue(f Field, raw any) (string, error) {
	switch f.kind {
	case boolKind:
		if b, ok := raw.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case intKind:
		if n, ok := raw.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return strconv.FormatInt(i, 10), nil
			}
		}
	case stringKind:
		if s, ok := raw.(string); ok {
			return s, nil
		}
	}
	return fmt.Sprint(raw), fmt.Errorf("value %v has the wrong type", raw)
}
