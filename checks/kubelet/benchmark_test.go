package kubelet

import "testing"

func TestSelectBenchmark(t *testing.T) {
	tests := []struct {
		platform Platform
		version  string
		wantName string
		wantID   string
		manual   bool
	}{
		{Kubernetes, "v1.15.3", "cis-1.5", "4.2.7", false},
		{Kubernetes, "v1.24.0", "cis-1.24", "4.2.7", false},
		{Kubernetes, "v1.25.0", "cis-1.7", "4.2.6", false},
		{Kubernetes, "v1.27.1", "cis-1.9", "4.2.6", false},
		{Kubernetes, "v1.28.0", "cis-1.10", "4.2.6", false},
		{Kubernetes, "v1.31.9", "cis-1.11", "4.2.6", false},
		{Kubernetes, "v1.34.0", "cis-1.12", "4.2.6", false},
		{Kubernetes, "", "cis-1.12", "4.2.6", false},
		{AKS, "v1.27.0", "aks-1.0", "3.2.7", true},
		{AKS, "v1.30.0", "aks-1.7", "3.2.6", false},
		{AKS, "v1.33.0", "aks-1.8", "3.2.6", false},
		{EKS, "v1.28.0", "eks-1.5.0", "3.2.6", false},
		{EKS, "v1.31.0", "eks-1.7.0", "3.2.6", false},
		{EKS, "v1.32.0", "eks-1.8.0", "3.2.6", false},
		{GKE, "v1.26.0", "gke-1.2.0", "3.2.7", false},
		{GKE, "v1.28.0", "gke-1.6.0", "3.2.6", false},
		{OpenShift, "v1.11.0", "rh-0.7", "7.8", false},
		{OpenShift, "v1.24.0", "rh-1.0", "4.2.7", false},
		{OpenShift, "v1.25.0", "rh-1.4", "4.2.7", false},
		{OpenShift, "v1.30.0", "rh-1.8", "4.2.7", false},
		{MicroShift, "", "rh-1.8", "4.2.7", false},
		{K3s, "v1.24.9", "k3s-cis-1.24", "4.2.7", false},
		{K3s, "v1.29.0", "k3s-cis-1.9", "4.2.6", false},
		{RKE2, "v1.25.0", "rke2-cis-1.7", "4.2.6", false},
		{MicroK8s, "v1.30.0", "cis-1.24-microk8s", "4.2.7", false},
	}
	for _, tc := range tests {
		t.Run(string(tc.platform)+" "+tc.version, func(t *testing.T) {
			v, err := ParseVersion(tc.version)
			if err != nil {
				t.Fatal(err)
			}
			b := SelectBenchmark(tc.platform, v)
			if b.Name != tc.wantName || b.IDs[CtlMakeIPTables] != tc.wantID || b.Manual[CtlMakeIPTables] != tc.manual {
				t.Errorf("got %s %s manual=%v, want %s %s manual=%v", b.Name, b.IDs[CtlMakeIPTables], b.Manual[CtlMakeIPTables], tc.wantName, tc.wantID, tc.manual)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		major   int
		minor   int
		wantErr bool
	}{
		{"v1.28.3", 1, 28, false}, {"1.29", 1, 29, false}, {"v1.30.2+k3s1", 1, 30, false},
		{"v1.27.4-eks-2d98532", 1, 27, false}, {"", 0, 0, false}, {"latest", 0, 0, true}, {"v1", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, err := ParseVersion(tc.in)
			if (err != nil) != tc.wantErr || v.Major != tc.major || v.Minor != tc.minor {
				t.Errorf("ParseVersion(%q): got %d.%d, %v; want %d.%d, error %v", tc.in, v.Major, v.Minor, err, tc.major, tc.minor, tc.wantErr)
			}
		})
	}
}

func TestMakeIPTablesSeverity(t *testing.T) {
	tests := []struct{ version, want string }{{"v1.26.0", "medium"}, {"v1.27.0", "medium"}, {"v1.28.0", "low"}, {"v1.35.0", "low"}, {"", "medium"}}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			v, _ := ParseVersion(tc.version)
			if got := string(makeIPTablesSeverity(v)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDetectPlatform(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		inv   Invocation
		want  Platform
	}{
		{"embedding distribution wins", map[string]string{"/etc/kubernetes/azure.json": "{}"}, Invocation{Distro: "k3s"}, K3s},
		{"rke2 kubelet process", map[string]string{"/etc/rancher/rke2/config.yaml": ""}, Invocation{}, RKE2},
		{"MicroShift", map[string]string{"/etc/microshift/config.yaml": ""}, Invocation{}, MicroShift},
		{"OpenShift", map[string]string{"/etc/machine-config-daemon/x": ""}, Invocation{}, OpenShift},
		{"AKS", map[string]string{"/etc/kubernetes/azure.json": "{}"}, Invocation{}, AKS},
		{"EKS", map[string]string{"/etc/eks/bootstrap.sh": ""}, Invocation{}, EKS},
		{"GKE", map[string]string{"/home/kubernetes/kubelet-config.yaml": ""}, Invocation{}, GKE},
		{"plain", map[string]string{"/etc/hostname": "n"}, Invocation{}, Kubernetes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectPlatform(writeTree(t, tc.files), tc.inv); got != tc.want {
				t.Errorf("DetectPlatform: got %s, want %s", got, tc.want)
			}
		})
	}
}
