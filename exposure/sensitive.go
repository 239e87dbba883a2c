package exposure

import "fmt"

// sensitivePorts are the control-plane ports an auditor always asks about
// (Kubernetes "Ports and Protocols": kubelet API 10250, kubelet read-only
// 10255, API server 6443, etcd 2379/2380, the default NodePort range).
var sensitivePorts = []struct {
	lo, hi int
	what   string
}{
	{10250, 10250, "kubelet API"},
	{10255, 10255, "kubelet read-only API"},
	{6443, 6443, "Kubernetes API server"},
	{2379, 2380, "etcd"},
	{30000, 32767, "NodePort range"},
}

// sensitive names the control-plane ports an open or forwarded TCP range
// overlaps.
func sensitive(e Exposure) string {
	if (e.State != Open && e.State != Forwarded) || e.Proto != "tcp" && e.Proto != "udp" {
		return ""
	}
	for _, s := range sensitivePorts {
		if e.PortFrom <= s.hi && e.PortTo >= s.lo {
			if s.lo == s.hi {
				return fmt.Sprintf("%s (%d)", s.what, s.lo)
			}
			return fmt.Sprintf("%s (%d-%d)", s.what, s.lo, s.hi)
		}
	}
	return ""
}
