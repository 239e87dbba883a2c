// Package report renders result models for people (text tables) and for
// scripts (JSON, YAML). Renderers take the model and an io.Writer and
// print in a stable order.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// JSON writes v as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// YAML writes v as YAML, using its JSON field names.
func YAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	_, err = w.Write(b)
	return err
}
