#!/bin/bash
# Rebuilds openshift-ovnk-node.iptables-save: runs, in a throw-away network namespace, the iptables commands that
# the kubelet and ovnkube-node (ovn-org/ovn-kubernetes go-controller/pkg/node at commit 4f5b176eb^, the last one
# with the management-port SNAT in iptables; local gateway mode, forwarding restricted) issue for the node and
# Services described in README.md, in the order they issue them (-I ... 1 where the code inserts, -A where it
# appends), then prints the result with iptables-nft-save. Needs root, iptables-nft. Usage:
#   sudo examples/make-openshift-ovnk-node.sh > examples/openshift-ovnk-node.iptables-save
set -euo pipefail
NS=expo-gen-ovnk-$$
ip netns add "$NS"
trap 'ip netns del "$NS"' EXIT
ipt() { ip netns exec "$NS" iptables-nft -w "$@"; }

# kubelet (pkg/kubelet/kubelet_network_linux.go): hint chain, KUBE-FIREWALL, canaries.
ipt -t mangle -N KUBE-IPTABLES-HINT
ipt -t filter -N KUBE-FIREWALL
ipt -t filter -I OUTPUT 1 -j KUBE-FIREWALL
ipt -t filter -I INPUT 1 -j KUBE-FIREWALL
ipt -t filter -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
for t in mangle nat filter; do ipt -t $t -N KUBE-KUBELET-CANARY; done

# ovnkube-node, local gateway: initLocalGatewayNATRules(ovn-k8s-mp0, 10.128.2.0/23): filter rules inserted,
# NAT rules appended.
ipt -t filter -I FORWARD 1 -o ovn-k8s-mp0 -j ACCEPT
ipt -t filter -I FORWARD 1 -i ovn-k8s-mp0 -j ACCEPT
ipt -t filter -I INPUT 1 -i ovn-k8s-mp0 -m comment --comment "from OVN to localhost" -j ACCEPT
ipt -t nat -A POSTROUTING -s 169.254.169.1 -j MASQUERADE
ipt -t nat -A POSTROUTING -s 10.128.2.0/23 -j MASQUERADE

# initLocalGatewayIPTables: chains ITP, EGRESS-SVC, NODEPORT, EXTERNALIP, ETP and their jumps, each inserted at 1.
ipt -t nat -N OVN-KUBE-ITP; ipt -t mangle -N OVN-KUBE-ITP
ipt -t mangle -I OUTPUT 1 -j OVN-KUBE-ITP
ipt -t nat -I OUTPUT 1 -j OVN-KUBE-ITP
ipt -t nat -N OVN-KUBE-EGRESS-SVC
ipt -t nat -I POSTROUTING 1 -j OVN-KUBE-EGRESS-SVC
for c in OVN-KUBE-NODEPORT OVN-KUBE-EXTERNALIP; do
  ipt -t nat -N $c
  ipt -t nat -I PREROUTING 1 -j $c
  ipt -t nat -I OUTPUT 1 -j $c
done
ipt -t nat -N OVN-KUBE-ETP
ipt -t nat -I PREROUTING 1 -j OVN-KUBE-ETP

# Forwarding restricted (gatewayConfig.ipForwarding: Restricted): initExternalBridgeServiceForwardingRules for the
# cluster network, the service network and the OVN masquerade IP, each inserted at 1.
for cidr in 10.128.0.0/14 172.30.0.0/16 169.254.169.1; do
  ipt -t filter -I FORWARD 1 -s $cidr -j ACCEPT
  ipt -t filter -I FORWARD 1 -d $cidr -j ACCEPT
done

# Management port (management-port_linux.go): SNAT to the mp0 address.
ipt -t nat -N OVN-KUBE-SNAT-MGMTPORT
ipt -t nat -I POSTROUTING 1 -o ovn-k8s-mp0 -j OVN-KUBE-SNAT-MGMTPORT
ipt -t nat -A OVN-KUBE-SNAT-MGMTPORT -o ovn-k8s-mp0 -j SNAT --to-source 10.128.2.2 -m comment --comment "OVN SNAT to Management Port"

# Egress service controller: RETURN for the node SNAT mark first, then one SNAT per served endpoint.
ipt -t nat -I OVN-KUBE-EGRESS-SVC 1 -m mark --mark 0x3f0 -m comment --comment DoNotSNAT -j RETURN
ipt -t nat -A OVN-KUBE-EGRESS-SVC -s 10.128.2.20 -m comment --comment demo/egress -j SNAT --to-source 203.0.113.62

# Services: getGatewayIPTRules order, every rule inserted at position 1 (insertIptRules).
svc() { for r in "$@"; do eval "ipt -t nat -I $r"; done; }
# openshift-ingress/router-default: LoadBalancer 172.30.28.150, ETP Local, no local host-network endpoint,
# http 80 (nodePort 31080) and https 443 (nodePort 31443), ingress 203.0.113.60.
for p in "80 31080" "443 31443"; do set -- $p
  svc "OVN-KUBE-ETP 1 -p TCP -m addrtype --dst-type LOCAL --dport $2 -j DNAT --to-destination 169.254.169.3:$2" \
      "OVN-KUBE-SNAT-MGMTPORT 1 -p TCP --dport $2 -j RETURN" \
      "OVN-KUBE-NODEPORT 1 -p TCP -m addrtype --dst-type LOCAL --dport $2 -j DNAT --to-destination 172.30.28.150:$1" \
      "OVN-KUBE-ETP 1 -p TCP -d 203.0.113.60 --dport $1 -j DNAT --to-destination 169.254.169.3:$2" \
      "OVN-KUBE-EXTERNALIP 1 -p TCP -d 203.0.113.60 --dport $1 -j DNAT --to-destination 172.30.28.150:$1"
done
# demo/web: NodePort 172.30.112.10, 8080 (nodePort 30080), ETP Cluster.
svc "OVN-KUBE-NODEPORT 1 -p TCP -m addrtype --dst-type LOCAL --dport 30080 -j DNAT --to-destination 172.30.112.10:8080"
# demo/dns: NodePort 172.30.112.50, 53/UDP (nodePort 30053), ETP Cluster.
svc "OVN-KUBE-NODEPORT 1 -p UDP -m addrtype --dst-type LOCAL --dport 30053 -j DNAT --to-destination 172.30.112.50:53"
# demo/extip: ClusterIP 172.30.112.20 with externalIPs [192.0.2.50], port 80.
svc "OVN-KUBE-EXTERNALIP 1 -p TCP -d 192.0.2.50 --dport 80 -j DNAT --to-destination 172.30.112.20:80"
# demo/lb-direct: LoadBalancer 172.30.112.30 without node ports, ETP Local, ingress 203.0.113.61, 443 -> 8443,
# local endpoints 10.128.2.15 and 10.128.2.16 (generateIPTRulesForLoadBalancersWithoutNodePorts and
# generateSkipMgmtForLocalEndpoints build their lists by prepending).
svc "OVN-KUBE-ETP 1 -p TCP -d 203.0.113.61 --dport 443 -j DNAT --to-destination 10.128.2.16:8443 -m statistic --mode random --probability 1.0000000000" \
    "OVN-KUBE-ETP 1 -p TCP -d 203.0.113.61 --dport 443 -j DNAT --to-destination 10.128.2.15:8443 -m statistic --mode random --probability 0.5000000000" \
    "OVN-KUBE-SNAT-MGMTPORT 1 -p TCP -d 10.128.2.16 --dport 8443 -j RETURN" \
    "OVN-KUBE-SNAT-MGMTPORT 1 -p TCP -d 10.128.2.15 --dport 8443 -j RETURN" \
    "OVN-KUBE-EXTERNALIP 1 -p TCP -d 203.0.113.61 --dport 443 -j DNAT --to-destination 172.30.112.30:443"
# demo/itp-local: ClusterIP 172.30.112.40, internalTrafficPolicy Local, no local host-network endpoint.
ipt -t mangle -I OVN-KUBE-ITP 1 -p TCP -d 172.30.112.40 --dport 80 -j MARK --set-xmark 0x1745ec

# openshift-sdn's admin chain, as left behind on a node migrated from openshift-sdn (OVN-Kubernetes does not
# create it; shape from openshift's verification tests, OCP-13847).
ipt -t filter -N OPENSHIFT-ADMIN-OUTPUT-RULES
ipt -t filter -I FORWARD 1 -i tun0 ! -o tun0 -m comment --comment "administrator overrides" -j OPENSHIFT-ADMIN-OUTPUT-RULES

cat <<'HDR'
# openshift-ovnk-node.iptables-save: an OpenShift worker with OVN-Kubernetes (local gateway mode, forwarding
# restricted), as iptables-nft-save prints it. Not a capture: examples/make-openshift-ovnk-node.sh ran the
# iptables commands the kubelet and ovnkube-node issue (ovn-org/ovn-kubernetes go-controller/pkg/node at
# 4f5b176eb^, the last commit with OVN-KUBE-SNAT-MGMTPORT in iptables) in a throw-away netns and saved the result.
# Node: br-ex 192.0.2.20/24, ovn-k8s-mp0 10.128.2.2/23; cluster network 10.128.0.0/14, services 172.30.0.0/16,
# masquerade subnet 169.254.169.0/29 (169.254.169.3 = ETP=Local masquerade IP). Services: see examples/README.md.
# OPENSHIFT-ADMIN-OUTPUT-RULES is openshift-sdn's chain (OVN-Kubernetes does not create it), kept as a leftover.
HDR
ip netns exec "$NS" iptables-nft-save | grep -v '^# \(Generated\|Completed\)'
