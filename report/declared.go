package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/exposure-audit/exposure/kube"
)

// Declared is the result of `exposure k8s`: what the cluster declares
// should be exposed, per node ({"declared": [...]}, never null).
type Declared struct {
	Declared []NodeDeclaration `json:"declared"`
}

// NodeDeclaration is one declared port on one node ("node" is empty when
// the objects name no Node: Service ports only).
type NodeDeclaration struct {
	Node string `json:"node"`
	kube.Declaration
}

// DeclaredTable renders the declarations one per line: node, protocol,
// address, ports, how, object, ready endpoints and source ranges.
func DeclaredTable(w io.Writer, d Declared) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPROTO\tADDR\tPORTS\tVIA\tOBJECT\tTARGET\tENDPOINTS\tSOURCE RANGES")
	for _, x := range d.Declared {
		ports := fmt.Sprint(x.PortFrom)
		if x.PortTo != x.PortFrom {
			ports = fmt.Sprintf("%d-%d", x.PortFrom, x.PortTo)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", orDash(x.Node), x.Proto, x.Addr, ports,
			viaText(x.Via), declObject(x.Declaration), orDash(x.TargetPort), x.Endpoints, listText(x.SourceRanges, 2))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// declObject names the object like exposure.ObjectText: "ns/name:port"
// for a Service port, "pod ns/name/container" for a pod.
func declObject(d kube.Declaration) string {
	s := d.Object.Namespace + "/" + d.Object.Name
	if d.Object.Kind == "Pod" {
		s = "pod " + s
		if d.Container != "" {
			s += "/" + d.Container
		}
		return s
	}
	if d.Port != "" {
		s += ":" + d.Port
	}
	return strings.TrimPrefix(s, "/")
}
