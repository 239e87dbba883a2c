package logs

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/iptables"
)

func loadRules(t *testing.T, path string) *RulesetState {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.Parse(data, iptables.Options{File: path})
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return NewRulesetState(rs)
}

func TestRulesOfRealDockerRuleset(t *testing.T) {
	st := loadRules(t, "testdata/real/docker/05-after-variants.iptables-nft-save.txt")
	var got []Rule
	for _, r := range st.Rules() {
		if r.Chain == "DOCKER" && r.Target == "DNAT" {
			got = append(got, r)
		}
	}
	want := []Rule{
		{Chain: "DOCKER", Proto: "tcp", Port: 8080, Target: "DNAT", To: "172.17.0.2:80"},
		{Chain: "DOCKER", Proto: "tcp", Port: 9090, Addr: "127.0.0.1", Target: "DNAT", To: "172.17.0.3:80"},
		{Chain: "DOCKER", Proto: "udp", Port: 5353, Target: "DNAT", To: "172.17.0.4:53"},
		{Chain: "DOCKER", Proto: "tcp", Port: 7002, Target: "DNAT", To: "172.17.0.5:7002"},
		{Chain: "DOCKER", Proto: "tcp", Port: 7001, Target: "DNAT", To: "172.17.0.5:7001"},
		{Chain: "DOCKER", Proto: "tcp", Port: 7000, Target: "DNAT", To: "172.17.0.5:7000"},
		{Chain: "DOCKER", Proto: "tcp", Port: 8443, Target: "DNAT", To: "172.18.0.2:443"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DOCKER DNAT rules (-want +got):\n%s", diff)
	}
	if st.FirewalldPorts() != nil || st.Sockets() != nil {
		t.Error("a ruleset must report firewalld ports and sockets as unknown (nil)")
	}
}

// TestReconcileRealDocker replays the real dockerd debug log and compares it
// with the real rulesets captured during the same run.
func TestReconcileRealDocker(t *testing.T) {
	rd := testReader()
	rd.Until = time.Date(2026, 11, 22, 14, 10, 30, 0, time.UTC) // after the 5 containers, before rm and stop
	tl, err := rd.Read(context.Background(), []Input{fileInputFor(t, "testdata/real/docker/dockerd-run1-nft-debug.log")})
	if err != nil {
		t.Fatal(err)
	}
	st := Replay(tl.Events)
	tests := []struct {
		name        string
		ruleset     string
		missing     int
		unexplained int
	}{
		{"rules match the log", "testdata/real/docker/05-after-variants.iptables-nft-save.txt", 0, 0},
		{"rules gone (dockerd stopped, as after a flush)", "testdata/real/docker/07-after-dockerd-stop.iptables-nft-save.txt", 7, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := Reconcile(st, loadRules(t, tt.ruleset))
			if len(rc.Missing) != tt.missing || len(rc.Unexplained) != tt.unexplained {
				t.Errorf("got %d missing, %d unexplained; want %d, %d\n%+v", len(rc.Missing), len(rc.Unexplained),
					tt.missing, tt.unexplained, rc)
			}
		})
	}
	t.Run("log closed everything, rules still there", func(t *testing.T) {
		full, err := testReader().Read(context.Background(), []Input{fileInputFor(t, "testdata/real/docker/dockerd-run1-nft-debug.log")})
		if err != nil {
			t.Fatal(err)
		}
		rc := Reconcile(Replay(full.Events), loadRules(t, "testdata/real/docker/05-after-variants.iptables-nft-save.txt"))
		if len(rc.Unexplained) != 7 {
			t.Errorf("got %d unexplained, want the 7 DOCKER DNAT rules", len(rc.Unexplained))
		}
	})
}
