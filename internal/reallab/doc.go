// Package reallab starts real networking components inside a network
// namespace of an internal/netns lab, for end-to-end tests of the exposure
// audit: dockerd (docker run -p), the CNI bridge and portmap plugins invoked
// the way containerd's libcni does, rootful podman with netavark, and
// firewalld on a private D-Bus bus.
//
// Every starter registers its own teardown with tb.Cleanup: containers are
// removed, daemons get SIGTERM (SIGKILL after a grace period), private
// directories are deleted, and the fixed paths the components write outside
// them (/run/containerd, /run/containers, /run/firewalld, ...) are removed
// only when they did not exist before the component started.
//
// Daemons run through "nsenter --net=/run/netns/NS" rather than
// "ip netns exec", which remounts /sys and hides the cgroup mounts that
// dockerd and runc need. Tests that lack a component skip, unless the
// environment sets EXPOSURE_REAL_REQUIRED=1 (CI as root), where they fail.
//
// This package is for tests only.
package reallab
