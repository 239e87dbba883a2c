// Package logs turns component logs into one ordered timeline of host-port
// events: who opened and closed which port of the node, when, and on what
// evidence.
//
// It recognises the lines that CRI-O (internal/hostport, 1.22–1.30 plus the
// "Restoring iptables rules" snapshots of every release), OVN-Kubernetes
// (go-iptables "Adding/Deleting rule in table" at klog V(5)), firewalld
// (--debug D-Bus call and signal lines), kube-proxy (≤1.23 "Opened local port",
// healthcheck servers) and dockerd (bind failures, --debug iptables calls)
// write, whatever wrapper carries them: plain files, rotated and gzipped
// files, journalctl short/short-iso/short-precise/cat/json output, CRI log
// files and `oc logs --timestamps`.
//
// The core is pure: recognisers and framing take bytes and a TimeContext and
// return events; files and journalctl sit behind small interfaces at the
// edges (Input, Exec), and the clock comes in as TimeContext.Ref and
// Follower.Sleep.
package logs
