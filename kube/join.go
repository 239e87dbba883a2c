package kube

import (
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/exposure-audit/exposure/exposure"
)

// joiner names the Kubernetes owner of exposures.
type joiner struct {
	ix   *index
	node string
	// nodePorts: "tcp/30080" → Service port; dests: "addr/tcp/80" →
	// Service port with how (externalIP, loadBalancer).
	nodePorts map[string]svcPortRef
	dests     map[string]svcPortRef
	health    map[int]*corev1.Service
	// containers maps a container id (without runtime prefix) to its pod
	// and container name.
	containers map[string]podContainer
}

// svcPortRef is one port of a Service.
type svcPortRef struct {
	svc *corev1.Service
	sp  *corev1.ServicePort
	via exposure.Via
}

// podContainer is a container of a pod.
type podContainer struct {
	pod  *corev1.Pod
	name string
}

// newJoiner indexes the Services' external ports and the pods' containers.
func newJoiner(ix *index, node string) *joiner {
	j := &joiner{ix: ix, node: node, nodePorts: map[string]svcPortRef{}, dests: map[string]svcPortRef{},
		health: map[int]*corev1.Service{}}
	for _, s := range ix.services {
		j.addService(s)
	}
	return j
}

// containerPod finds a container by id (built on first use: only
// listeners with a container need it).
func (j *joiner) containerPod(id string) (podContainer, bool) {
	if j.containers == nil {
		j.containers = map[string]podContainer{}
		for _, p := range j.ix.pods {
			for _, list := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
				for _, cs := range list {
					if id := containerID(cs.ContainerID); id != "" {
						j.containers[id] = podContainer{pod: p, name: cs.Name}
					}
				}
			}
		}
	}
	pc, ok := j.containers[id]
	return pc, ok
}

// addService indexes a Service's nodePorts, externalIPs and LB IPs.
func (j *joiner) addService(s *corev1.Service) {
	if !proxied(s) {
		return
	}
	for i := range s.Spec.Ports {
		sp := &s.Spec.Ports[i]
		proto := strings.ToLower(string(sp.Protocol))
		if sp.NodePort != 0 {
			j.nodePorts[proto+"/"+strconv.Itoa(int(sp.NodePort))] = svcPortRef{s, sp, exposure.ViaNodePort}
		}
		for _, ip := range s.Spec.ExternalIPs {
			j.dests[addrKey(ip)+"/"+proto+"/"+strconv.Itoa(int(sp.Port))] = svcPortRef{s, sp, exposure.ViaExternalIP}
		}
		for _, ip := range lbIPs(s) {
			j.dests[addrKey(ip)+"/"+proto+"/"+strconv.Itoa(int(sp.Port))] = svcPortRef{s, sp, exposure.ViaLoadBalancer}
		}
	}
	if hc := s.Spec.HealthCheckNodePort; hc != 0 && localPolicy(s) {
		j.health[int(hc)] = s
	}
}

// addrKey normalises an address string.
func addrKey(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

// containerID strips the runtime prefix of a status containerID
// ("containerd://ID", "cri-o://ID", "docker://ID").
func containerID(s string) string {
	if _, id, ok := strings.Cut(s, "://"); ok {
		return id
	}
	return s
}

// join sets the owner of every open or forwarded exposure, and of the
// closed or filtered single ports kube-proxy or OVN-Kubernetes decide (a
// Service without endpoints: kube-proxy rejects or drops its ports).
func (j *joiner) join(rep *exposure.Report) {
	if rep == nil {
		return
	}
	for i := range rep.Exposures {
		e := &rep.Exposures[i]
		switch {
		case e.Owner.Kind == exposure.KindService:
			j.checkService(e)
		case e.State == exposure.Forwarded:
			j.forwarded(e)
		case e.State == exposure.Open:
			j.open(e)
		case e.PortFrom == e.PortTo && (e.Owner.Component == exposure.CompKubeProxy || e.Owner.Component == exposure.CompOVNK):
			if ref, ok := j.servicePortAt(e); ok {
				setServiceOwner(&e.Owner, ref)
			}
		}
	}
}

// checkService completes a Service owner the rules named: the port's
// number when unnamed, how it is exposed.
func (j *joiner) checkService(e *exposure.Exposure) {
	s := j.ix.byName[e.Owner.Namespace+"/"+e.Owner.Name]
	if s == nil {
		return
	}
	if ref, ok := j.servicePortAt(e); ok && ref.svc == s {
		setServiceOwner(&e.Owner, ref)
	}
}

// servicePortAt finds the Service port exposed at e's address and port.
func (j *joiner) servicePortAt(e *exposure.Exposure) (svcPortRef, bool) {
	for p := e.PortFrom; p <= e.PortTo && p-e.PortFrom < 64; p++ {
		if ref, ok := j.dests[addrKey(e.Addr)+"/"+e.Proto+"/"+strconv.Itoa(p)]; ok {
			return ref, true
		}
		if ref, ok := j.nodePorts[e.Proto+"/"+strconv.Itoa(p)]; ok {
			return ref, true
		}
	}
	return svcPortRef{}, false
}

// setServiceOwner names a Service port in o.
func setServiceOwner(o *exposure.Owner, ref svcPortRef) {
	o.Kind, o.Namespace, o.Name, o.Port = exposure.KindService, ref.svc.Namespace, ref.svc.Name, portName(ref.sp)
	if o.Via == "" || o.Via == exposure.ViaNodePort || o.Via == exposure.ViaExternalIP || o.Via == exposure.ViaLoadBalancer {
		o.Via = ref.via
	}
	if len(o.SourceRanges) == 0 && o.Via == exposure.ViaLoadBalancer {
		// kube-proxy applies loadBalancerSourceRanges to the LB IPs only.
		o.SourceRanges = append([]string(nil), sourceRanges(ref.svc)...)
	}
}

// forwarded names the owner of a DNAT the rules did not name: a Service
// port (OVN-Kubernetes NodePorts) or a pod's hostPort.
func (j *joiner) forwarded(e *exposure.Exposure) {
	if e.Owner.Component == exposure.CompKubeProxy || e.Owner.Component == exposure.CompOVNK {
		if ref, ok := j.servicePortAt(e); ok {
			setServiceOwner(&e.Owner, ref)
			return
		}
	}
	for _, t := range e.To {
		a, err := netip.ParseAddr(t.Addr)
		if err != nil {
			continue
		}
		if p, c, ok := j.hostPortPod(a.Unmap(), t.Port, e.Proto, e.PortFrom); ok {
			e.Owner.Kind, e.Owner.Namespace, e.Owner.Name, e.Owner.ContainerName = exposure.KindPod, p.Namespace, p.Name, c
			e.Owner.Via = exposure.ViaHostPort
			return
		}
	}
}

// hostPortPod finds the pod at podIP whose container declares hostPort →
// containerPort.
func (j *joiner) hostPortPod(podIP netip.Addr, containerPort int, proto string, hostPort int) (*corev1.Pod, string, bool) {
	for _, p := range j.ix.podIP[podIP] {
		for _, c := range podContainers(p) {
			for _, cp := range c.Ports {
				if int(cp.ContainerPort) == containerPort && int(cp.HostPort) == hostPort && strings.EqualFold(string(cmpProto(cp.Protocol)), proto) {
					return p, c.Name, true
				}
			}
		}
	}
	return nil, "", false
}

func cmpProto(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// open names the owner of a local listener: a hostNetwork pod's
// container, kube-proxy's health check server for a Service, else the
// host process it already names.
func (j *joiner) open(e *exposure.Exposure) {
	l := e.Listener
	if s := j.healthCheck(e.Proto, e.PortFrom); s != nil && e.PortFrom == e.PortTo {
		e.Owner.Kind, e.Owner.Namespace, e.Owner.Name = exposure.KindService, s.Namespace, s.Name
		e.Owner.Port, e.Owner.Via = "", exposure.ViaHealthCheckNodePort
		return
	}
	if pc, ok := j.listenerPod(l); ok && pc.pod.Spec.HostNetwork {
		e.Owner.Kind, e.Owner.Namespace, e.Owner.Name = exposure.KindPod, pc.pod.Namespace, pc.pod.Name
		e.Owner.ContainerName, e.Owner.Via = pc.name, exposure.ViaHostNetwork
		if e.Owner.Container == "" {
			e.Owner.Container = l.Container
		}
	}
}

// healthCheck returns the Service whose healthCheckNodePort is proto/port
// (kube-proxy serves it over TCP for Local LoadBalancers).
func (j *joiner) healthCheck(proto string, port int) *corev1.Service {
	if proto != "tcp" {
		return nil
	}
	return j.health[port]
}

// listenerPod finds the pod and container of a listener: by container id
// (cgroup → container id → pod status), else by pod UID (cgroup slice)
// and the container declaring the port.
func (j *joiner) listenerPod(l exposure.Listener) (podContainer, bool) {
	if l.Container != "" {
		if pc, ok := j.containerPod(l.Container); ok {
			return pc, true
		}
	}
	p := j.ix.podUID[l.PodUID]
	if l.PodUID == "" || p == nil {
		return podContainer{}, false
	}
	for _, c := range podContainers(p) {
		for _, cp := range c.Ports {
			if int(cp.ContainerPort) == l.Port {
				return podContainer{pod: p, name: c.Name}, true
			}
		}
	}
	if len(p.Spec.Containers) == 1 {
		return podContainer{pod: p, name: p.Spec.Containers[0].Name}, true
	}
	return podContainer{pod: p}, true
}
