package logs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeNode is a hand-made NodeState.
type fakeNode struct {
	rules []Rule
	fw    []FirewalldPort
	socks []Socket
}

func (n fakeNode) Rules() []Rule                   { return n.rules }
func (n fakeNode) FirewalldPorts() []FirewalldPort { return n.fw }
func (n fakeNode) Sockets() []Socket               { return n.socks }

type findingID struct {
	Source Source
	Port   int
	Reason string
}

func fids(fs []Finding) []findingID {
	out := []findingID{}
	for _, f := range fs {
		out = append(out, findingID{f.Source, f.Port, f.Reason})
	}
	return out
}

func TestReconcile(t *testing.T) {
	hostport := ev(1, SourceCRIO, ActionSnapshot, "tcp", 8080, to("10.88.0.5:80", 4))
	nodeport := ev(2, SourceOVNKube, ActionOpen, "tcp", 32718, to("10.96.0.5:80", 4), zone("", "OVN-KUBE-NODEPORT"))
	fwPort := ev(3, SourceFirewalld, ActionOpen, "tcp", 6443, zone("public", LayerRuntime))
	kp := ev(4, SourceKubeProxy, ActionOpen, "tcp", 30080)
	perm := ev(5, SourceFirewalld, ActionOpen, "tcp", 9090, zone("public", LayerPermanent))
	all := []Event{hostport, nodeport, fwPort, kp, perm}
	full := fakeNode{
		rules: []Rule{
			{Chain: "KUBE-HOSTPORTS", Proto: "tcp", Port: 8080, Target: "KUBE-HP-X"},
			{Chain: "OVN-KUBE-NODEPORT", Proto: "tcp", Port: 32718, Target: "DNAT", To: "10.96.0.5:80"},
		},
		fw:    []FirewalldPort{{Zone: "public", Proto: "tcp", Port: 6443}},
		socks: []Socket{{Proto: "tcp", Port: 30080, Process: "kube-proxy"}},
	}
	tests := []struct {
		name        string
		node        fakeNode
		missing     []findingID
		unexplained []findingID
	}{
		{"everything in place", full, []findingID{}, []findingID{}},
		{"rules flushed (iptables.service restart)", fakeNode{fw: full.fw, socks: full.socks},
			[]findingID{{SourceCRIO, 8080, "no rule forwards it any more"}, {SourceOVNKube, 32718, "no rule forwards it any more"}},
			[]findingID{}},
		{"firewalld runtime lost the port, kube-proxy socket gone", fakeNode{rules: full.rules, fw: []FirewalldPort{}, socks: []Socket{}},
			[]findingID{{SourceFirewalld, 6443, "firewalld's runtime configuration no longer opens it"},
				{SourceKubeProxy, 30080, "no socket listens on it"}}, []findingID{}},
		{"firewalld unknown is not missing", fakeNode{rules: full.rules, socks: full.socks}, []findingID{}, []findingID{}},
		{"sockets unknown are not missing", fakeNode{rules: full.rules, fw: full.fw}, []findingID{}, []findingID{}},
		{"rules and ports no log explains", fakeNode{
			rules: append(full.rules, Rule{Chain: "DOCKER", Proto: "tcp", Port: 5000, Target: "DNAT", To: "172.17.0.2:5000"},
				Rule{Chain: "INPUT", Proto: "tcp", Port: 22, Target: "ACCEPT"}),
			fw: append(full.fw, FirewalldPort{Zone: "public", Proto: "tcp", Port: 22}), socks: full.socks},
			[]findingID{}, []findingID{{SourceDockerd, 5000, "rule present, no log event opened it"},
				{SourceFirewalld, 22, "open in firewalld, no log event opened it"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := Reconcile(Replay(all), tt.node)
			if diff := cmp.Diff(tt.missing, fids(rc.Missing)); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.unexplained, fids(rc.Unexplained)); diff != "" {
				t.Errorf("unexplained (-want +got):\n%s", diff)
			}
			if len(rc.NotReloaded) != 1 || rc.NotReloaded[0].Port != 9090 {
				t.Errorf("got not reloaded %+v, want port 9090", rc.NotReloaded)
			}
		})
	}
}
