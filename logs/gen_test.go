package logs

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The generator writes a large journal the way `journalctl -o short-iso`
// and `journalctl -o json` print it: mostly kubelet, systemd, sshd, kernel,
// NetworkManager and quiet CRI-O/ovnkube lines, with a share of port events
// from every source. It is deterministic for a seed.

var (
	genOut    = flag.String("gen.out", "", "TestGenerateJournal: write a generated journal to this file")
	genSize   = flag.Int64("gen.size", 1<<30, "TestGenerateJournal: bytes to write")
	genFormat = flag.String("gen.format", "mixed", "TestGenerateJournal: short-iso, json or mixed (alternating blocks)")
	genGrep   = flag.String("gen.patterns", "", "TestGrepPatterns: write the scanner's needles as grep -E patterns to this file")
)

// noise are ordinary node log lines: identifier and message.
var noise = [][2]string{
	{"kubelet", `I1122 15:40:13.883237    2211 kubelet.go:2345] "SyncLoop (PLEG): event for pod" pod="openshift-dns/dns-default-x7k2p" event={"ID":"0b1c","Type":"ContainerStarted","Data":"4f5a"}`},
	{"kubelet", `I1122 15:40:14.001122    2211 prober.go:107] "Probe failed" probeType="Readiness" pod="openshift-monitoring/prometheus-k8s-0" podUID="1234" containerName="prometheus" probeResult="failure" output="HTTP probe failed with statuscode: 503"`},
	{"systemd", `Started Session 42 of User core.`},
	{"sshd", `Accepted publickey for core from 10.0.0.1 port 52344 ssh2: RSA SHA256:aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d`},
	{"kernel", `IPv4: martian source 10.0.0.5 from 10.0.0.7, on dev eth0`},
	{"NetworkManager", `<info>  [1700000000.1234] dhcp4 (eth0): state changed new lease, address=10.0.0.5`},
	{"crio", `time="2026-11-22 15:40:13.883237001Z" level=info msg="Checking image status: registry.k8s.io/pause:3.9" id=0b1c2d3e name=/runtime.v1.ImageService/ImageStatus`},
	{"crio", `time="2026-11-22 15:40:13.883237001Z" level=info msg="Created container 4f5a6b7c: openshift-dns/dns-default-x7k2p/dns" id=9e8d name=/runtime.v1.RuntimeService/CreateContainer`},
	{"ovnkube", `I1122 15:40:13.883237    4242 obj_retry.go:296] Retry object setup: *v1.Pod openshift-monitoring/prometheus-k8s-0`},
	{"ovnkube", `I1122 15:40:13.883237    4242 services_controller.go:360] Finished syncing service kube-system/kube-dns on namespace default : 1.2ms`},
	{"containerd", `time="2026-11-22T15:40:13.883237001Z" level=info msg="shim disconnected" id=4f5a6b7c namespace=k8s.io`},
	{"chronyd", `Selected source 192.0.2.123 (2.pool.ntp.org)`},
}

// portLines are event lines, one per source and shape.
var portLines = [][2]string{
	{"crio", `time="2026-11-22 15:40:13.883237001Z" level=info msg="Opened local port tcp:%d"`},
	{"crio", `time="2026-11-22 15:40:13.883237001Z" level=info msg="Closing host port tcp:%d"`},
	{"ovnkube", `I1122 15:40:13.883237    4242 iptables.go:63] Adding rule in table: nat, chain: OVN-KUBE-NODEPORT with args: "-p TCP -m addrtype --dst-type LOCAL --dport %d -j DNAT --to-destination 10.96.178.142:8081" for protocol: 0`},
	{"firewalld", `DEBUG1: zone.PortAdded('public', '%d', 'tcp', 0)`},
	{"kube-proxy", `I1122 15:40:13.883237       1 proxier.go:1605] Opened local port "nodePort for default/web:http" (:%d/tcp)`},
	{"dockerd", `time="2026-11-22T15:40:13.883237001Z" level=error msg="Handler for POST /v1.43/containers/4f1e/start returned error: driver failed programming external connectivity on endpoint r (0123): Bind for 0.0.0.0:%d failed: port is already allocated"`},
}

// generateJournal writes about size bytes; one line in 1000 is a port
// event. It returns the number of lines and of port events.
func generateJournal(w io.Writer, size int64, format string, seed uint64) (lines, events int, err error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(seed, 0))
	t := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var written int64
	for written < size {
		asJSON := format == "json" || format == "mixed" && (written/(8<<20))%2 == 1
		id, msg := pick(r)
		if r.IntN(1000) == 0 {
			p := portLines[r.IntN(len(portLines))]
			id, msg = p[0], fmt.Sprintf(p[1], 30000+r.IntN(2768))
			events++
		}
		t = t.Add(time.Duration(r.IntN(2000)) * time.Microsecond)
		n, err := writeEntry(bw, t, id, msg, asJSON)
		if err != nil {
			return lines, events, err
		}
		written += int64(n)
		lines++
	}
	return lines, events, bw.Flush()
}

func pick(r *rand.Rand) (string, string) {
	n := noise[r.IntN(len(noise))]
	return n[0], n[1]
}

func writeEntry(w io.Writer, t time.Time, id, msg string, asJSON bool) (int, error) {
	if !asJSON {
		return fmt.Fprintf(w, "%s node1 %s[%d]: %s\n", t.Format("2006-01-02T15:04:05-0700"), id, 1000+len(id), msg)
	}
	us := t.UnixMicro()
	b, err := json.Marshal(map[string]string{
		"__CURSOR":             fmt.Sprintf("s=0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e;i=%x;b=9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b;m=%x;t=%x;x=%x", us%999983, us%77777, us, us%65521),
		"__REALTIME_TIMESTAMP": strconv.FormatInt(us, 10), "__MONOTONIC_TIMESTAMP": strconv.FormatInt(us%1000000007, 10),
		"_BOOT_ID": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "_MACHINE_ID": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
		"_HOSTNAME": "node1", "_TRANSPORT": "stdout", "PRIORITY": "6", "SYSLOG_FACILITY": "3",
		"SYSLOG_IDENTIFIER": id, "_PID": "1000", "_UID": "0", "_GID": "0", "_COMM": id, "_EXE": "/usr/bin/" + id,
		"_CMDLINE": "/usr/bin/" + id + " --config=/etc/" + id + "/config.yaml", "_CAP_EFFECTIVE": "1ffffffffff",
		"_SELINUX_CONTEXT": "system_u:system_r:unconfined_service_t:s0", "_SYSTEMD_CGROUP": "/system.slice/" + id + ".service",
		"_SYSTEMD_UNIT": id + ".service", "_SYSTEMD_SLICE": "system.slice", "_SYSTEMD_INVOCATION_ID": "4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
		"_STREAM_ID": "7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "MESSAGE": msg,
	})
	if err != nil {
		return 0, err
	}
	return fmt.Fprintf(w, "%s\n", b)
}

// TestGenerateJournal writes the benchmark journal when -gen.out is given:
//
//	go test ./logs -run TestGenerateJournal -gen.out /tmp/journal.log -gen.size 1073741824
func TestGenerateJournal(t *testing.T) {
	if *genOut == "" {
		t.Skip("pass -gen.out FILE to write a generated journal")
	}
	f, err := os.Create(*genOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, events, err := generateJournal(f, *genSize, *genFormat, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d lines, %d port events", *genOut, lines, events)
}

func TestGeneratedJournalIsRead(t *testing.T) {
	for _, format := range []string{"short-iso", "json"} {
		t.Run(format, func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "journal")
			if err != nil {
				t.Fatal(err)
			}
			_, events, err := generateJournal(f, 4<<20, format, 2)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			rd := testReader()
			tl, err := rd.Read(t.Context(), []Input{fileInputFor(t, f.Name())})
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Events) != events {
				t.Errorf("got %d events, want %d", len(tl.Events), events)
			}
			if len(tl.Problems) != 0 || tl.Skipped.Total() != 0 {
				t.Errorf("got problems %v, skipped %+v, want none", tl.Problems, tl.Skipped)
			}
		})
	}
}

// TestGrepPatterns writes the needles the scanner looks for, one ERE per
// line, for the grep comparison of docs/perf-events.md:
//
//	go test ./logs -run TestGrepPatterns -gen.patterns /tmp/patterns.ere
func TestGrepPatterns(t *testing.T) {
	if *genGrep == "" {
		t.Skip("pass -gen.patterns FILE to write the grep patterns")
	}
	st := testReader().newStream(Input{Name: "x"}, &Timeline{}, nil)
	var b strings.Builder
	for _, n := range st.sc.needles {
		b.WriteString(regexp.QuoteMeta(string(n)) + "\n")
	}
	b.WriteString(regexp.QuoteMeta(`"MESSAGE":[`) + "\n")
	if err := os.WriteFile(*genGrep, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
