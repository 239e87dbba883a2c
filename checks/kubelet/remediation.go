package kubelet

import (
	"fmt"

	"github.com/exposure-audit/exposure/checks"
)

// remediate says where to change a setting, given the layer that decided it
// and the platform's own way of configuring its kubelet.
func (t Target) remediate(s Setting, want string) string {
	key, flag := s.Field.Key, s.Field.Flag
	switch t.Platform {
	case OpenShift:
		return fmt.Sprintf("Set %s: %s in a KubeletConfig (machineconfiguration.openshift.io/v1, spec.kubeletConfig) for the node's MachineConfigPool; the Machine Config Operator rewrites /etc/kubernetes/kubelet.conf and restarts the kubelet. Do not edit the node's files.", key, want)
	case MicroShift:
		return fmt.Sprintf("Set %s: %s under kubelet: in /etc/microshift/config.yaml, then systemctl restart microshift.", key, want)
	case K3s, RKE2:
		if s.Layer == checks.LayerFlag || s.Layer == checks.LayerDefault {
			return fmt.Sprintf("Add %q to kubelet-arg in /etc/rancher/%s/config.yaml (and remove any conflicting entry from %s), then systemctl restart %s.", flag+"="+want, t.Platform, s.Path, t.serviceName())
		}
	case MicroK8s:
		return fmt.Sprintf("Set --%s=%s in /var/snap/microk8s/current/args/kubelet, then snap restart microk8s.daemon-kubelite.", flag, want)
	}
	return t.remediateLayer(s, key, flag, want)
}

func (t Target) serviceName() string {
	if t.Platform == K3s {
		return "k3s (or k3s-agent)"
	}
	return "rke2-server (or rke2-agent)"
}

// remediateLayer is the plain-kubelet remediation for the deciding layer.
func (t Target) remediateLayer(s Setting, key, flag, want string) string {
	const restart = " then systemctl daemon-reload && systemctl restart kubelet."
	switch s.Layer {
	case checks.LayerFlag:
		return fmt.Sprintf("Remove --%s from the kubelet command line (it comes from %s) or set --%s=%s;%s", flag, s.Path, flag, want, restart)
	case checks.LayerFile, checks.LayerDropIn:
		return fmt.Sprintf("Set %s: %s in %s (a command-line --%s would override it);%s", key, want, s.Path, flag, restart)
	case checks.LayerConfigz:
		return fmt.Sprintf("The running kubelet reports %s=%s. Set %s: %s in the file given by its --config (or a --config-dir drop-in) and make sure no --%s flag overrides it;%s", key, s.Value, key, want, flag, restart)
	}
	if t.Config.Legacy {
		return fmt.Sprintf("The kubelet runs without --config, so the legacy flag default %s applies: pass --%s=%s, or a --config file with %s: %s;%s", s.Value, flag, want, key, want, restart)
	}
	return fmt.Sprintf("Set %s: %s in the kubelet's --config file;%s", key, want, restart)
}
