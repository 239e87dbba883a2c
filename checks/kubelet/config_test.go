package kubelet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
)

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: 10250\n", ""},
		{"json", `{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration"}`, ""},
		{"kubeconfig", "apiVersion: v1\nkind: Config\n", "is not a KubeletConfiguration"},
		{"azure.json", `{"cloud":"AzurePublicCloud"}`, "is not a KubeletConfiguration"},
		{"not yaml", "a: [", "decode yaml"},
		{"a list", "- a\n", "decode object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeConfig([]byte(tc.in))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("DecodeConfig: got error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeConfigz(t *testing.T) {
	tree, err := DecodeConfigz([]byte(`{"kubeletconfig":{"kind":"KubeletConfiguration","readOnlyPort":0},"credentialproviderconfig":{}}`))
	if err != nil {
		t.Fatalf("DecodeConfigz: got error %v, want none", err)
	}
	if v, ok := lookup(tree, "readOnlyPort"); !ok || v.(interface{ String() string }).String() != "0" {
		t.Errorf("readOnlyPort: got %v, %v; want 0", v, ok)
	}
	if _, err := DecodeConfigz([]byte(`{}`)); err == nil {
		t.Errorf("DecodeConfigz({}): got no error, want one")
	}
}

// TestConfigGet exercises the precedence on hand-made layers.
func TestConfigGet(t *testing.T) {
	file := Doc{Layer: checks.LayerFile, Path: "/f", Tree: map[string]any{"makeIPTablesUtilChains": true, "readOnlyPort": jsonInt(10255)}}
	drop := Doc{Layer: checks.LayerDropIn, Path: "/d/10.conf", Tree: map[string]any{"makeIPTablesUtilChains": false, "readOnlyPort": nil}}
	tests := []struct {
		name  string
		cfg   Config
		field Field
		want  Setting
	}{
		{"drop-in over file", Config{Docs: []Doc{file, drop}}, MakeIPTablesUtilChains,
			Setting{Value: "false", Layer: checks.LayerDropIn, Path: "/d/10.conf"}},
		{"null in drop-in leaves the file value", Config{Docs: []Doc{file, drop}}, ReadOnlyPort,
			Setting{Value: "10255", Layer: checks.LayerFile, Path: "/f"}},
		{"flag over drop-in", Config{Args: ParseArgs([]string{"--make-iptables-util-chains=1"}), Origin: []string{"/unit"}, Docs: []Doc{file, drop}}, MakeIPTablesUtilChains,
			Setting{Value: "true", Layer: checks.LayerFlag, Path: "/unit"}},
		{"int flag base 0 like pflag's int32", Config{Args: ParseArgs([]string{"--read-only-port=0x0"})}, ReadOnlyPort,
			Setting{Value: "0", Layer: checks.LayerFlag, Path: "command line"}},
		{"legacy default without --config", Config{Legacy: true}, AnonymousAuth,
			Setting{Value: "true", Layer: checks.LayerDefault, Path: "kubelet built-in (no --config)"}},
		{"v1beta1 default with --config", Config{Docs: []Doc{file}}, AnonymousAuth,
			Setting{Value: "false", Layer: checks.LayerDefault, Path: "kubelet built-in (KubeletConfiguration v1beta1)"}},
		{"configz ignores flags", Config{Configz: true, Args: ParseArgs([]string{"--read-only-port=1"}), Docs: []Doc{{Layer: checks.LayerConfigz, Path: "/z", Tree: map[string]any{}}}}, ReadOnlyPort,
			Setting{Value: "0", Layer: checks.LayerConfigz, Path: "/z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.Get(tc.field)
			if err != nil {
				t.Fatalf("Get: got error %v, want none", err)
			}
			tc.want.Field = tc.field
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Field{})); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmakeIPTablesUtilChains: false\n"))
	f.Add([]byte(`{"kind":"KubeletConfiguration","apiVersion":"kubelet.config.k8s.io/v1beta1","authentication":{"anonymous":{"enabled":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := DecodeConfig(data)
		if err != nil {
			return
		}
		c := Config{Docs: []Doc{{Layer: checks.LayerFile, Path: "/f", Tree: tree}}}
		for _, fl := range []Field{MakeIPTablesUtilChains, AnonymousAuth, AuthorizationMode, ClientCAFile, ReadOnlyPort, Address, Port} {
			_, _ = c.Get(fl)
		}
	})
}

func FuzzDecodeConfigz(f *testing.F) {
	f.Add([]byte(`{"kubeletconfig":{"makeIPTablesUtilChains":false,"readOnlyPort":10255,"authentication":{"anonymous":{"enabled":true}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := DecodeConfigz(data)
		if err != nil {
			return
		}
		c := Config{Configz: true, Docs: []Doc{{Layer: checks.LayerConfigz, Path: "/configz", Tree: tree}}}
		for _, fl := range []Field{MakeIPTablesUtilChains, AnonymousAuth, AuthorizationMode, ClientCAFile, ReadOnlyPort, Address, Port} {
			if s, err := c.Get(fl); err == nil && s.Layer != checks.LayerConfigz {
				t.Fatalf("%s decided by %s, want configz", fl.Key, s.Layer)
			}
		}
	})
}
