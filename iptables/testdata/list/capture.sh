#!/bin/sh
# capture.sh regenerates the `iptables -L` captures in this directory.
# Run as root from this directory: sh capture.sh
#
# For every source ruleset and backend it creates a throw-away network
# namespace (expo-list-$$-N), creates the ipsets the rules name, loads the
# ruleset with iptables-{legacy,nft}-restore (with -c when the source has
# counters), writes the matching iptables-save (-c) output, then the listings
# (stdout only), and deletes the namespace.
set -eu

CORPUS=${CORPUS:-/work/shared/corpus/real}
n=0

# capture NAME FAMILY(4|6) BACKEND(legacy|nft) RULES-FILE [counters]
capture() {
	name=$1 fam=$2 be=$3 rules=$4 ctr=${5:-}
	n=$((n + 1))
	ns=expo-list-$$-$n
	ipt=iptables-$be
	[ "$fam" = 6 ] && ipt=ip6tables-$be
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
	ip netns exec "$ns" ipset create expo-blk hash:net family inet
	ip netns exec "$ns" ipset create expo-pairs hash:ip,port family inet
	restore="$ipt-restore"
	save="$ipt-save"
	if [ -n "$ctr" ]; then
		restore="$restore -c"
		save="$save -c"
	fi
	ip netns exec "$ns" $restore <"$rules"
	base=$name.$be
	ip netns exec "$ns" $save | grep -v '^# \(Generated\|Completed\)' >"$base.save.txt"
	tables=$(sed -n 's/^\*//p' "$base.save.txt")
	: >"$base.L-n-v.txt"
	: >"$base.L-n-v-x-line.txt"
	: >"$base.L-n.txt"
	: >"$base.L-v.txt"
	: >"$base.L-n-line.txt"
	for t in $tables; do
		ip netns exec "$ns" $ipt -t "$t" -L -n -v >>"$base.L-n-v.txt"
		ip netns exec "$ns" $ipt -t "$t" -L -n -v -x --line-numbers >>"$base.L-n-v-x-line.txt"
		ip netns exec "$ns" $ipt -t "$t" -L -n >>"$base.L-n.txt"
		ip netns exec "$ns" $ipt -t "$t" -L -v >>"$base.L-v.txt"
		ip netns exec "$ns" $ipt -t "$t" -L -n --line-numbers >>"$base.L-n-line.txt"
	done
	case $tables in *filter*)
		ip netns exec "$ns" $ipt -L -n -v >"$base.filter.L-n-v.txt" ;;
	esac
	case $tables in *nat*)
		ip netns exec "$ns" $ipt -t nat -L -n >"$base.nat.L-n.txt" ;;
	esac
	ip netns del "$ns"
	trap - EXIT
}

# strip_nfacct removes `-m nfacct --nfacct-name X` (the nfacct objects
# kube-proxy creates do not exist in a fresh namespace, and this VM has no
# nfacct tool to create them).
strip_nfacct() {
	sed 's/ -m nfacct --nfacct-name  *[^ ]*//' "$1" >"$2"
}

tmp=$(mktemp -d)
strip_nfacct "$CORPUS/kube-proxy/iptables-mode/01-synced.iptables-nft-save.txt" "$tmp/kube4"
strip_nfacct "$CORPUS/kube-proxy/iptables-mode/03-after-traffic.iptables-save-c.txt" "$tmp/kube4c"
strip_nfacct "$CORPUS/kube-proxy/iptables-mode/01-synced.ip6tables-save.txt" "$tmp/kube6"

capture features4 4 legacy rules/features4.rules
capture features4 4 nft rules/features4.rules
capture features6 6 legacy rules/features6.rules
capture features6 6 nft rules/features6.rules
capture counters4 4 legacy rules/counters4.rules counters
capture stateful4 4 legacy rules/stateful4.rules
capture stateful4 4 nft rules/stateful4.rules
capture unknown4 4 legacy rules/unknown4.rules
capture unknown4 4 nft rules/unknown4.rules
capture counters4 4 nft rules/counters4.rules counters
capture kube-proxy4 4 nft "$tmp/kube4"
capture kube-proxy4 4 legacy "$tmp/kube4"
capture kube-proxy4-traffic 4 nft "$tmp/kube4c" counters
capture kube-proxy6 6 nft "$tmp/kube6"
capture docker 4 legacy "$CORPUS/docker/run2-legacy-no-userland-proxy/02-after-run.iptables-legacy-save.txt"
capture docker-variants 4 nft "$CORPUS/docker/run1-nft-userland-proxy/05-after-variants.iptables-nft-save.txt"
capture cni-portmap 4 nft "$CORPUS/cni-portmap/03-after-portmap-add.iptables-nft-save.txt"
capture firewalld 4 nft "$CORPUS/firewalld/iptables-backend/10-iptables-backend-after-start.iptables-nft-save.txt"
capture podman 4 nft "$CORPUS/podman/netavark/01-netavark-after-run.iptables-nft-save.txt"

# Single-chain listings.
n=$((n + 1))
ns=expo-list-$$-$n
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns exec "$ns" iptables-nft-restore <"$tmp/kube4"
ip netns exec "$ns" iptables-nft -t nat -L KUBE-SERVICES -n -v >kube-proxy4.nft.nat-KUBE-SERVICES.L-n-v.txt
ip netns exec "$ns" iptables-nft -L KUBE-FORWARD -n -v -x --line-numbers >kube-proxy4.nft.filter-KUBE-FORWARD.L-n-v-x-line.txt
ip netns del "$ns"
trap - EXIT
rm -r "$tmp"
