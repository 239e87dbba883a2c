// Command exposure answers, for a Linux node of Kubernetes, OpenShift or
// MicroShift, which ports the outside world can reach, how, opened by whom,
// since when, and whether that is allowed.
//
// It is read-only: it never writes a netfilter rule.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
