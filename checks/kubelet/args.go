package kubelet

import (
	"fmt"
	"strconv"
	"strings"
)

// Flag is one occurrence of a command-line flag, named as pflag stores it
// after the kubelet's WordSepNormalizeFunc ("_" becomes "-").
type Flag struct {
	// Name is the normalised long name, without dashes.
	Name string
	// Value is the text after "=" or the next argument; "true" for a bare
	// boolean flag (pflag's NoOptDefVal).
	Value string
	// Index is the position of the flag's own argument in argv.
	Index int
}

// Args is a kubelet command line split the way the kubelet's pflag FlagSet
// splits it.
type Args struct {
	// Flags holds every occurrence in order; for scalar flags the last one
	// wins, as pflag's Set overwrites the value on each occurrence.
	Flags []Flag
	// Positional holds arguments that are no flag's value. The kubelet
	// refuses to start with any ("unknown command").
	Positional []string
	// Errs holds problems pflag would have refused (a missing value).
	Errs []string
}

// boolFlags are the kubelet flags pflag declares as booleans: a bare
// occurrence means true and the next argument is never taken as their value
// (so "--anonymous-auth false" leaves "false" as a positional argument).
var boolFlags = map[string]bool{
	"make-iptables-util-chains": true, "anonymous-auth": true, "authentication-token-webhook": true,
	"fail-swap-on": true, "register-node": true, "register-schedulable": true,
	"serialize-image-pulls": true, "protect-kernel-defaults": true, "enable-server": true,
	"enable-debugging-handlers": true, "enable-controller-attach-detach": true,
	"rotate-certificates": true, "rotate-server-certificates": true, "cgroups-per-qos": true,
	"exit-on-lock-contention": true, "keep-terminated-pod-volumes": true, "cpu-cfs-quota": true,
	"kernel-memcg-notification": true, "seccomp-default": true, "enable-cadvisor-json-endpoints": true,
	"local-storage-capacity-isolation": true, "fail-cgroupv1": true, "runonce": true,
	"containerized": true, "allow-privileged": true, "enable-load-reader": true,
	"alsologtostderr": true, "logtostderr": true, "add-dir-header": true, "skip-headers": true,
	"skip-log-headers": true, "one-output": true, "help": true, "version": true,
	"log-flush-frequency-disabled": true, "experimental-check-node-capabilities-before-mount": true,
}

// shortWithValue are the kubelet's one-letter flags that take a value
// (klog's -v); -h is boolean.
var shortWithValue = map[byte]string{'v': "v"}

// NormalizeName applies the kubelet's flag name normalisation
// (k8s.io/component-base/cli/flag.WordSepNormalizeFunc: "_" → "-").
func NormalizeName(name string) string { return strings.ReplaceAll(name, "_", "-") }

// ParseArgs splits a kubelet argument list (without the program name) as
// pflag does: "--name=value", "--name value" for non-boolean flags, bare
// boolean flags, one-letter flags, and "--" ending the flags.
func ParseArgs(argv []string) Args {
	var a Args
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case arg == "--":
			a.Positional = append(a.Positional, argv[i+1:]...)
			return a
		case strings.HasPrefix(arg, "--"):
			i = a.long(argv, i)
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			i = a.short(argv, i)
		default:
			a.Positional = append(a.Positional, arg)
		}
	}
	return a
}

// long records the long flag at argv[i] and returns the index of the last
// argument it consumed.
func (a *Args) long(argv []string, i int) int {
	start := i
	name, value, hasValue := strings.Cut(argv[i][2:], "=")
	name = NormalizeName(name)
	switch {
	case hasValue:
	case boolFlags[name]:
		value = "true"
	case i+1 < len(argv):
		i++
		value = argv[i]
	default:
		a.Errs = append(a.Errs, fmt.Sprintf("flag needs an argument: --%s", name))
		return i
	}
	a.Flags = append(a.Flags, Flag{Name: name, Value: value, Index: start})
	return i
}

// short records a one-letter flag ("-v=2", "-v2", "-v 2", "-h").
func (a *Args) short(argv []string, i int) int {
	arg := argv[i]
	name, ok := shortWithValue[arg[1]]
	if !ok {
		a.Flags = append(a.Flags, Flag{Name: arg[1:2], Value: "true", Index: i})
		return i
	}
	switch {
	case len(arg) > 2:
		a.Flags = append(a.Flags, Flag{Name: name, Value: strings.TrimPrefix(arg[2:], "="), Index: i})
	case i+1 < len(argv):
		a.Flags = append(a.Flags, Flag{Name: name, Value: argv[i+1], Index: i})
		i++
	default:
		a.Errs = append(a.Errs, fmt.Sprintf("flag needs an argument: -%s", name))
	}
	return i
}

// Last returns the last occurrence of flag name, the one pflag keeps.
func (a Args) Last(name string) (Flag, bool) {
	for i := len(a.Flags) - 1; i >= 0; i-- {
		if a.Flags[i].Name == name {
			return a.Flags[i], true
		}
	}
	return Flag{}, false
}

// All returns the values of every occurrence of flag name, in order.
func (a Args) All(name string) []string {
	var vs []string
	for _, f := range a.Flags {
		if f.Name == name {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// ParseBool parses a boolean flag value as pflag's boolValue.Set does, with
// strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
func ParseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("parse bool %q: invalid syntax", s)
	}
	return b, nil
}

// StripProgram drops the program name and any subcommand before the first
// flag: "/usr/bin/kubelet --x", "hyperkube kubelet --x" and "--x" all give
// "--x".
func StripProgram(argv []string) []string {
	for len(argv) > 0 && !strings.HasPrefix(argv[0], "-") {
		argv = argv[1:]
	}
	return argv
}
