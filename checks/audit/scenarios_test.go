package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exposure-audit/exposure/checks"
	"github.com/exposure-audit/exposure/checks/apiserver"
	"github.com/exposure-audit/exposure/checks/hostfs"
	"github.com/exposure-audit/exposure/checks/kubelet"
)

// fakeAPI answers GetNode and Configz from fixed values.
type fakeAPI struct {
	version string
	configz string
	err     error
}

func (f fakeAPI) GetNode(context.Context, string) (apiserver.Node, error) {
	return apiserver.Node{KubeletVersion: f.version}, nil
}

func (f fakeAPI) Configz(_ context.Context, node string, _ apiserver.Node) ([]byte, string, error) {
	if f.err != nil {
		return nil, "", f.err
	}
	return []byte(f.configz), "/api/v1/nodes/" + node + "/proxy/configz", nil
}

// scenario is one row of the kubelet truth table: a node fixture under
// testdata/nodes, what stands in for the live process, and the results
// expected for some check IDs, each as "STATUS layer path actual".
type scenario struct {
	name, root       string
	node             string
	cmdline, cwd     string
	version          string
	procs            bool
	api              API
	benchmark        string
	want             map[string]string
	wantMakeSeverity checks.Severity
}

// project renders the results named in want as "STATUS layer path actual".
func project(rep checks.Report, want map[string]string) map[string]string {
	got := map[string]string{}
	for _, r := range rep.Results {
		if _, ok := want[r.ID]; ok {
			got[r.ID] = fmt.Sprintf("%s %s %s %q", r.Status, r.Evidence.Layer, r.Evidence.Path, r.Evidence.Actual)
		}
	}
	return got
}

func runScenario(t *testing.T, sc scenario) checks.Report {
	t.Helper()
	root := filepath.Join("testdata", "nodes", sc.root)
	o := Options{FS: hostfs.New(root), Cmdline: sc.cmdline, Cwd: sc.cwd, Version: sc.version, API: sc.api, Node: sc.node}
	if sc.procs {
		o.Procs = kubelet.ProcFS{FS: o.FS, Dir: "/proc"}
	}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: got error %v, want none", err)
	}
	return rep
}

const (
	v1beta1 = "kubelet built-in (KubeletConfiguration v1beta1)"
	legacy  = "kubelet built-in (no --config)"
)

var scenarios = []scenario{
	// Layers: defaults → --config → --config-dir → flags.
	{name: "kubeadm systemd unit: KUBELET_EXTRA_ARGS false beats config file true", root: "kubeadm", version: "v1.30.2", benchmark: "cis-1.11",
		wantMakeSeverity: checks.Low, want: map[string]string{
			"4.2.6": `FAIL flag /etc/default/kubelet "false"`,
			"4.2.1": `PASS file /var/lib/kubelet/config.yaml "false"`,
			"4.2.2": `PASS file /var/lib/kubelet/config.yaml "Webhook"`,
			"4.2.3": `PASS file /var/lib/kubelet/config.yaml "/etc/kubernetes/pki/ca.crt"`,
			"4.2.4": `PASS default ` + v1beta1 + ` "0"`,
		}},
	{name: "EKS AL2 10-kubelet-args.conf KUBELET_ARGS", root: "eks", version: "v1.31.0", benchmark: "eks-1.7.0",
		want: map[string]string{
			"3.2.6": `FAIL flag /etc/systemd/system/kubelet.service.d/10-kubelet-args.conf "false"`,
			"3.2.4": `PASS file /etc/kubernetes/kubelet/kubelet-config.json "0"`,
		}},
	{name: "AKS: the running --config, not azure.json or /var/lib/kubelet/config.yaml", root: "aks", version: "v1.30.4", benchmark: "aks-1.7",
		cmdline: "/usr/local/bin/kubelet --config=/etc/default/kubeletconfig.json --kubeconfig=/var/lib/kubelet/kubeconfig",
		want: map[string]string{
			"3.2.6": `FAIL file /etc/default/kubeletconfig.json "false"`,
			"3.2.1": `PASS file /etc/default/kubeletconfig.json "false"`,
		}},
	{name: "AKS 1.28 uses aks-1.0 numbering 3.2.7", root: "aks", version: "v1.28.5", benchmark: "aks-1.0",
		cmdline: "kubelet --config=/etc/default/kubeletconfig.json",
		want:    map[string]string{"3.2.7": `FAIL file /etc/default/kubeletconfig.json "false"`}},
	{name: "GKE read-only port from kubelet-config.yaml", root: "gke", version: "v1.29.1", benchmark: "gke-1.6.0",
		cmdline: "/home/kubernetes/bin/kubelet --config=/home/kubernetes/kubelet-config.yaml",
		want: map[string]string{
			"3.2.4": `FAIL file /home/kubernetes/kubelet-config.yaml "10255"`,
			"3.2.6": `PASS default ` + v1beta1 + ` "true"`,
			"3.2.3": `WARN file /home/kubernetes/kubelet-config.yaml "/etc/srv/kubernetes/pki/ca-certificates.crt"`,
		}},
	{name: "OpenShift: key absent passes (kube-bench rh-1.4/rh-1.8 can never pass)", root: "openshift", version: "v1.29.6", benchmark: "rh-1.8",
		cmdline: "/usr/bin/kubelet --config=/etc/kubernetes/kubelet.conf --bootstrap-kubeconfig=/etc/kubernetes/kubeconfig --kubeconfig=/var/lib/kubelet/kubeconfig --node-ip=192.0.2.5",
		want: map[string]string{
			"4.2.7": `PASS default ` + v1beta1 + ` "true"`,
			"4.2.1": `PASS file /etc/kubernetes/kubelet.conf "false"`,
			"4.2.3": `PASS file /etc/kubernetes/kubelet.conf "/etc/kubernetes/kubelet-ca.crt"`,
		}},
	{name: "OpenShift 4.12 rh-1.4: explicit true passes", root: "openshift", version: "v1.25.16", benchmark: "rh-1.4",
		cmdline: "kubelet --config=/etc/kubernetes/kubelet.conf --make-iptables-util-chains=true",
		want:    map[string]string{"4.2.7": `PASS flag --kubelet-cmdline "true"`}},
	{name: "OpenShift 3.11 rh-0.7 numbers it 7.8", root: "openshift", version: "v1.11.0", benchmark: "rh-0.7",
		cmdline: "kubelet --config=/etc/kubernetes/kubelet.conf --make-iptables-util-chains=false",
		want:    map[string]string{"7.8": `FAIL flag --kubelet-cmdline "false"`}},
	{name: "relative --config resolved against the kubelet's cwd (kube-bench #1256)", root: "relative", cwd: "/var/lib/kubelet", version: "v1.29.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=kubelet_conf.json",
		want: map[string]string{
			"4.2.6": `FAIL file /var/lib/kubelet/kubelet_conf.json "false"`,
			"4.2.3": `PASS file /var/lib/kubelet/kubelet_conf.json "/var/lib/kubelet/pki/ca.crt"`,
		}},
	{name: "relative --config without the right cwd is an error, not a pass", root: "relative", version: "v1.29.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=kubelet_conf.json",
		want:    map[string]string{"4.2.6": `ERROR   ""`}},
	{name: "--config-dir drop-ins merged in WalkDir order, *.conf only (kube-bench ignores them)", root: "dropins", version: "v1.31.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=/etc/kubernetes/kubelet/config.json --config-dir=/etc/kubernetes/kubelet/config.json.d",
		want: map[string]string{
			"4.2.6": `FAIL drop-in /etc/kubernetes/kubelet/config.json.d/10-chains.conf "false"`,
			"4.2.4": `PASS drop-in /etc/kubernetes/kubelet/config.json.d/20-ports.conf "0"`,
			"4.2.2": `FAIL drop-in /etc/kubernetes/kubelet/config.json.d/sub/30-nested.conf "AlwaysAllow"`,
		}},
	{name: "flag beats drop-in", root: "dropins", version: "v1.31.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config-dir=/etc/kubernetes/kubelet/config.json.d --config=/etc/kubernetes/kubelet/config.json --make-iptables-util-chains=true",
		want:    map[string]string{"4.2.6": `PASS flag --kubelet-cmdline "true"`}},
	{name: "--config naming a kubeconfig (a file kube-bench's list may pick) is an error", root: "wrongfile", version: "v1.30.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=/var/lib/kubelet/kubeconfig",
		want:    map[string]string{"4.2.6": `ERROR   ""`, "4.2.1": `ERROR   ""`}},
	{name: "unreadable --config is an error, never a pass", root: "flagsonly", version: "v1.30.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=/etc/kubernetes/kubelet-config.yaml",
		want:    map[string]string{"4.2.6": `ERROR   ""`}},
	{name: "missing --config-dir is an error", root: "flagsonly", version: "v1.30.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config-dir=/etc/kubernetes/kubelet.conf.d",
		want:    map[string]string{"4.2.6": `ERROR   ""`}},
	{name: "flags only, no config file: legacy defaults (kube-bench #1242)", root: "flagsonly", version: "v1.26.3", benchmark: "cis-1.8",
		cmdline: "kubelet --kubeconfig=/etc/kubernetes/kubelet.conf", wantMakeSeverity: checks.Medium,
		want: map[string]string{
			"4.2.6":        `PASS default ` + legacy + ` "true"`,
			"4.2.1":        `FAIL default ` + legacy + ` "true"`,
			"4.2.2":        `FAIL default ` + legacy + ` "AlwaysAllow"`,
			"4.2.3":        `FAIL default ` + legacy + ` ""`,
			"4.2.4":        `FAIL default ` + legacy + ` "10255"`,
			"kubelet-bind": `FAIL default ` + legacy + ` "0.0.0.0:10250"`,
		}},
	{name: "quoted \"false\" in the config file is rejected like the kubelet does", root: "strfalse", version: "v1.30.0", benchmark: "cis-1.11",
		cmdline: "kubelet --config=/etc/kubelet/config.yaml",
		want:    map[string]string{"4.2.6": `ERROR file /etc/kubelet/config.yaml "false"`}},
	// Embedded kubelets.
	{name: "k3s kubelet-arg in config.yaml and config.yaml.d", root: "k3s", version: "v1.30.5+k3s1", benchmark: "k3s-cis-1.9",
		want: map[string]string{
			"4.2.6": `FAIL flag /etc/rancher/k3s/config.yaml "false"`,
			"4.2.4": `FAIL flag /etc/rancher/k3s/config.yaml.d/50-ports.yaml "10255"`,
			"4.2.1": `PASS flag k3s built-in kubelet arguments "false"`,
		}},
	{name: "rke2 kubelet.conf.d drop-in overridden by kubelet-arg", root: "rke2", version: "v1.31.2+rke2r1", benchmark: "rke2-cis-1.8",
		want: map[string]string{
			"4.2.6": `PASS flag /etc/rancher/rke2/config.yaml "true"`,
			"4.2.1": `PASS drop-in /var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf "false"`,
			"4.2.4": `PASS drop-in /var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf "0"`,
		}},
	{name: "microk8s args file with _ spelling and =0", root: "microk8s", version: "v1.29.4", benchmark: "cis-1.24-microk8s",
		want: map[string]string{
			"4.2.7": `FAIL flag /var/snap/microk8s/current/args/kubelet "false"`,
			"4.2.3": `PASS flag /var/snap/microk8s/current/args/kubelet "/var/snap/microk8s/current/certs/ca.crt"`,
		}},
	{name: "MicroShift kubelet: sections over its built-in settings", root: "microshift", benchmark: "rh-1.8",
		want: map[string]string{
			"4.2.7": `FAIL file /etc/microshift/config.yaml (kubelet:) "false"`,
			"4.2.4": `FAIL file /etc/microshift/config.d/10-ro.yaml (kubelet:) "10255"`,
			"4.2.1": `PASS default MicroShift built-in "false"`,
			"4.2.3": `PASS default MicroShift built-in "/var/lib/microshift/certs/ca-bundle/client-ca.crt"`,
		}},
	// Live process and configz.
	{name: "live /proc: relative --config against /proc/PID/cwd, =t beats the file", root: "proc", procs: true, version: "v1.32.0", benchmark: "cis-1.12",
		want: map[string]string{
			"4.2.6": `PASS flag /proc/4242/cmdline "true"`,
			"4.2.3": `PASS file /etc/kubelet/config.yaml "/etc/kubelet/ca.crt"`,
		}},
	{name: "configz first: the running kubelet's view wins over node files", root: "kubeadm", benchmark: "cis-1.12",
		api: fakeAPI{version: "v1.33.1", configz: `{"kubeletconfig":{"makeIPTablesUtilChains":true,"authentication":{"anonymous":{"enabled":false}},"authorization":{"mode":"Webhook"}}}`},
		want: map[string]string{
			"4.2.6": `PASS configz /api/v1/nodes/node-a/proxy/configz "true"`,
			"4.2.4": `PASS configz /api/v1/nodes/node-a/proxy/configz "0"`,
			"4.2.3": `FAIL configz /api/v1/nodes/node-a/proxy/configz ""`,
		}},
	{name: "configz false", root: "kubeadm", benchmark: "cis-1.12",
		api:  fakeAPI{version: "v1.33.1", configz: `{"kubeletconfig":{"makeIPTablesUtilChains":false}}`},
		want: map[string]string{"4.2.6": `FAIL configz /api/v1/nodes/node-a/proxy/configz "false"`}},
	{name: "configz without the key is the default, true, even with no kubelet found on disk", root: "openshift", node: "ocp-1", benchmark: "rh-1.8",
		api:  fakeAPI{version: "v1.31.4", configz: `{"kubeletconfig":{"kind":"KubeletConfiguration","apiVersion":"kubelet.config.k8s.io/v1beta1","authentication":{"anonymous":{"enabled":false}}}}`},
		want: map[string]string{"4.2.7": `PASS configz /api/v1/nodes/ocp-1/proxy/configz "true"`}},
	{name: "configz forbidden: fall back to node files", root: "kubeadm", benchmark: "cis-1.12",
		api:  fakeAPI{version: "v1.33.1", err: errors.New("get configz: HTTP 403")},
		want: map[string]string{"4.2.6": `FAIL flag /etc/default/kubelet "false"`}},
}

// pflagCases are kubelet command lines and the 4.2.6 result they give on a
// node without files; kube-bench FAILs "=1" and "=t" and misses "_".
var pflagCases = []struct{ name, flags, want string }{
	{"=true", "--make-iptables-util-chains=true", `PASS flag --kubelet-cmdline "true"`},
	{"bare flag is true", "--make-iptables-util-chains", `PASS flag --kubelet-cmdline "true"`},
	{"=1 is true", "--make-iptables-util-chains=1", `PASS flag --kubelet-cmdline "true"`},
	{"=t is true", "--make-iptables-util-chains=t", `PASS flag --kubelet-cmdline "true"`},
	{"=T is true", "--make-iptables-util-chains=T", `PASS flag --kubelet-cmdline "true"`},
	{"=TRUE is true", "--make-iptables-util-chains=TRUE", `PASS flag --kubelet-cmdline "true"`},
	{"=False is false", "--make-iptables-util-chains=False", `FAIL flag --kubelet-cmdline "false"`},
	{"=0 is false", "--make-iptables-util-chains=0", `FAIL flag --kubelet-cmdline "false"`},
	{"_ spelling is the same flag", "--make_iptables_util_chains=false", `FAIL flag --kubelet-cmdline "false"`},
	{"last occurrence wins (true)", "--make-iptables-util-chains=false --make-iptables-util-chains=true", `PASS flag --kubelet-cmdline "true"`},
	{"last occurrence wins (false)", "--make-iptables-util-chains --make_iptables_util_chains=f", `FAIL flag --kubelet-cmdline "false"`},
	{"space-separated bool value: kubelet refuses to start", "--make-iptables-util-chains false", `ERROR   ""`},
	{"yes is not a bool", "--make-iptables-util-chains=yes", `ERROR flag --kubelet-cmdline "yes"`},
}

func TestKubeletTruthTable(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			rep := runScenario(t, sc)
			if diff := cmp.Diff(sc.want, project(rep, sc.want)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if rep.Benchmark != sc.benchmark {
				t.Errorf("benchmark: got %q, want %q", rep.Benchmark, sc.benchmark)
			}
			if sc.wantMakeSeverity != "" {
				assertMakeSeverity(t, rep, sc.wantMakeSeverity)
			}
		})
	}
}

func TestKubeletPflagSemantics(t *testing.T) {
	for _, tc := range pflagCases {
		t.Run(tc.name, func(t *testing.T) {
			rep := runScenario(t, scenario{root: "flagsonly", version: "v1.28.0", cmdline: "/usr/bin/kubelet " + tc.flags})
			want := map[string]string{"4.2.6": tc.want}
			if diff := cmp.Diff(want, project(rep, want)); diff != "" {
				t.Errorf("4.2.6 (-want +got):\n%s", diff)
			}
		})
	}
}

func assertMakeSeverity(t *testing.T, rep checks.Report, want checks.Severity) {
	t.Helper()
	for _, r := range rep.Results {
		if strings.Contains(r.Title, "make-iptables-util-chains") && r.Severity != want {
			t.Errorf("severity of %s: got %s, want %s", r.ID, r.Severity, want)
		}
	}
}

// TestRemediationByPlatform checks that a failing control says where this
// platform configures its kubelet.
func TestRemediationByPlatform(t *testing.T) {
	tests := []struct {
		name, root, cmdline, id, want string
	}{
		{"OpenShift: KubeletConfig, not the node's files", "openshift", "kubelet --config=/etc/kubernetes/kubelet.conf --make-iptables-util-chains=false", "4.2.7",
			"Set makeIPTablesUtilChains: true in a KubeletConfig (machineconfiguration.openshift.io/v1, spec.kubeletConfig)"},
		{"MicroShift: kubelet: section", "microshift", "", "4.2.7", "under kubelet: in /etc/microshift/config.yaml"},
		{"k3s: kubelet-arg", "k3s", "", "4.2.6", `Add "make-iptables-util-chains=true" to kubelet-arg in /etc/rancher/k3s/config.yaml`},
		{"microk8s: args file", "microk8s", "", "4.2.7", "in /var/snap/microk8s/current/args/kubelet"},
		{"plain kubelet drop-in: edit that drop-in", "dropins", "kubelet --config=/etc/kubernetes/kubelet/config.json --config-dir=/etc/kubernetes/kubelet/config.json.d", "4.2.6",
			"Set makeIPTablesUtilChains: true in /etc/kubernetes/kubelet/config.json.d/10-chains.conf"},
		{"legacy defaults: pass a flag or a config file", "flagsonly", "kubelet", "4.2.1",
			"The kubelet runs without --config, so the legacy flag default true applies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runScenario(t, scenario{root: tc.root, cmdline: tc.cmdline, version: "v1.30.0"})
			found := false
			for _, r := range rep.Results {
				if r.ID != tc.id {
					continue
				}
				found = true
				if !strings.Contains(r.Remediation, tc.want) {
					t.Errorf("remediation of %s: got %q, want it to contain %q", r.ID, r.Remediation, tc.want)
				}
			}
			if !found {
				t.Errorf("no result %s", tc.id)
			}
		})
	}
}

func TestConfigDirAlphaNote(t *testing.T) {
	const note = "accepts --config-dir only with KUBELET_CONFIG_DROPIN_DIR_ALPHA"
	for _, tc := range []struct {
		version string
		want    bool
	}{{"v1.28.4", true}, {"v1.29.0", true}, {"v1.30.0", false}} {
		t.Run(tc.version, func(t *testing.T) {
			rep := runScenario(t, scenario{root: "dropins", version: tc.version,
				cmdline: "kubelet --config=/etc/kubernetes/kubelet/config.json --config-dir=/etc/kubernetes/kubelet/config.json.d"})
			got := ""
			for _, r := range rep.Results {
				if r.ID == "kubelet-source" {
					got = r.Message
				}
			}
			if got == "" || strings.Contains(got, note) != tc.want {
				t.Errorf("kubelet-source message %q: want the note %v", got, tc.want)
			}
		})
	}
}
