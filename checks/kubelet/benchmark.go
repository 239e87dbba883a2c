package kubelet

// Control keys: the kubelet settings the benchmarks audit, named after the
// kubelet flag.
const (
	CtlAnonymousAuth     = "anonymous-auth"
	CtlAuthorizationMode = "authorization-mode"
	CtlClientCAFile      = "client-ca-file"
	CtlReadOnlyPort      = "read-only-port"
	CtlMakeIPTables      = "make-iptables-util-chains"
)

// Benchmark is the kube-bench benchmark matching a platform and kubelet
// version, with the IDs it gives the kubelet controls.
type Benchmark struct {
	// Name is the kube-bench cfg directory ("cis-1.10", "aks-1.7", "rh-1.8").
	Name string
	// IDs maps a control key to the benchmark's check number; a missing key
	// means the benchmark has no such control.
	IDs map[string]string
	// Manual lists controls the benchmark marks Manual (scored: false).
	Manual map[string]bool
	// Note explains a selection that is not one-to-one.
	Note string
}

// cisIDs returns the CIS Kubernetes 4.2.x numbering with
// make-iptables-util-chains at makeID (4.2.7 before CIS 1.7, 4.2.6 after the
// removal of protect-kernel-defaults).
func cisIDs(section, makeID string) map[string]string {
	return map[string]string{
		CtlAnonymousAuth: section + ".1", CtlAuthorizationMode: section + ".2",
		CtlClientCAFile: section + ".3", CtlReadOnlyPort: section + ".4", CtlMakeIPTables: makeID,
	}
}

// cisManual: CIS marks 4.2.4 (read-only port) Manual from 1.7 on.
var cisManual = map[string]bool{CtlReadOnlyPort: true}

// SelectBenchmark picks the benchmark kube-bench's auto-selection picks for
// the platform and kubelet version (cmd/common.go getBenchmarkVersion and
// cfg/config.yaml version_mapping); an unknown version gets the newest.
func SelectBenchmark(p Platform, v Version) Benchmark {
	minor := 99
	if v.Known() {
		minor = v.Minor
	}
	switch p {
	case AKS:
		return managed(minor, 29, 32, "aks-1.0", "aks-1.7", "aks-1.8")
	case EKS:
		return managed(minor, 29, 32, "eks-1.5.0", "eks-1.7.0", "eks-1.8.0")
	case GKE:
		return gke(minor)
	case OpenShift, MicroShift:
		return openshift(p, minor)
	case K3s:
		return byMinor(minor, "k3s-cis-1.24", "k3s-cis-1.7", "k3s-cis-1.8", "k3s-cis-1.9")
	case RKE2:
		return byMinor(minor, "rke2-cis-1.24", "rke2-cis-1.7", "rke2-cis-1.8", "rke2-cis-1.8")
	case MicroK8s:
		return Benchmark{Name: "cis-1.24-microk8s", IDs: cisIDs("4.2", "4.2.7")}
	}
	return kubernetes(minor)
}

// kubernetes follows kube-bench's version_mapping for upstream Kubernetes.
func kubernetes(minor int) Benchmark {
	old := []struct {
		upTo int
		name string
	}{{15, "cis-1.5"}, {18, "cis-1.6"}, {22, "cis-1.20"}, {23, "cis-1.23"}, {24, "cis-1.24"}}
	for _, o := range old {
		if minor <= o.upTo {
			return Benchmark{Name: o.name, IDs: cisIDs("4.2", "4.2.7")}
		}
	}
	name := "cis-1.12"
	switch {
	case minor == 25:
		name = "cis-1.7"
	case minor == 26:
		name = "cis-1.8"
	case minor == 27:
		name = "cis-1.9"
	case minor == 28:
		name = "cis-1.10"
	case minor <= 31:
		name = "cis-1.11"
	}
	return Benchmark{Name: name, IDs: cisIDs("4.2", "4.2.6"), Manual: cisManual}
}

// byMinor maps ≤1.24, 1.25, 1.26, ≥1.27 to a distribution's CIS benchmarks.
func byMinor(minor int, b124, b125, b126, b127 string) Benchmark {
	switch {
	case minor <= 24:
		return Benchmark{Name: b124, IDs: cisIDs("4.2", "4.2.7")}
	case minor == 25:
		return Benchmark{Name: b125, IDs: cisIDs("4.2", "4.2.6"), Manual: cisManual}
	case minor == 26:
		return Benchmark{Name: b126, IDs: cisIDs("4.2", "4.2.6"), Manual: cisManual}
	}
	return Benchmark{Name: b127, IDs: cisIDs("4.2", "4.2.6"), Manual: cisManual}
}

// managed picks an AKS or EKS benchmark: the oldest one numbers
// make-iptables-util-chains 3.2.7 (and AKS 1.0 marks it Manual), the newer
// ones 3.2.6.
func managed(minor, mid, newest int, oldName, midName, newName string) Benchmark {
	switch {
	case minor < mid && oldName == "aks-1.0":
		return Benchmark{Name: oldName, IDs: cisIDs("3.2", "3.2.7"), Manual: map[string]bool{CtlMakeIPTables: true}}
	case minor < mid:
		return Benchmark{Name: oldName, IDs: cisIDs("3.2", "3.2.6")}
	case minor < newest:
		return Benchmark{Name: midName, IDs: cisIDs("3.2", "3.2.6")}
	}
	return Benchmark{Name: newName, IDs: cisIDs("3.2", "3.2.6")}
}

// gke: gke-1.2.0 (3.2.7) before 1.28, gke-1.6.0 (3.2.6) for 1.28–1.29;
// gke-1.8.0 and gke-1.9.0 have no kubelet section, so their IDs are taken
// from gke-1.6.0.
func gke(minor int) Benchmark {
	switch {
	case minor < 28:
		return Benchmark{Name: "gke-1.2.0", IDs: cisIDs("3.2", "3.2.7")}
	case minor <= 29:
		return Benchmark{Name: "gke-1.6.0", IDs: cisIDs("3.2", "3.2.6")}
	}
	return Benchmark{Name: "gke-1.6.0", IDs: cisIDs("3.2", "3.2.6"),
		Note: "gke-1.8.0 and gke-1.9.0 have no kubelet controls; IDs from gke-1.6.0"}
}

// openshift: rh-0.7 (OpenShift 3.x, kubelet ≤1.11) numbers the chains check
// 7.8; rh-1.0, rh-1.4 and rh-1.8 (OpenShift 4) number it 4.2.7.
func openshift(p Platform, minor int) Benchmark {
	var b Benchmark
	switch {
	case minor <= 11:
		return Benchmark{Name: "rh-0.7", IDs: map[string]string{CtlMakeIPTables: "7.8"}}
	case minor <= 24:
		b = Benchmark{Name: "rh-1.0", IDs: cisIDs("4.2", "4.2.7")}
	case minor == 25:
		b = Benchmark{Name: "rh-1.4", IDs: cisIDs("4.2", "4.2.7")}
	default:
		b = Benchmark{Name: "rh-1.8", IDs: cisIDs("4.2", "4.2.7")}
	}
	if p == MicroShift {
		b.Note = "no MicroShift benchmark exists; IDs from the OpenShift benchmark"
	}
	return b
}
