package logs

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseLogrus(t *testing.T) {
	tests := []struct {
		name, line string
		want       logrusLine
		ok         bool
	}{
		{"crio ≤1.31 time", `time="2023-06-25 16:27:37.033003098+08:00" level=info msg="Opened local port tcp:443"`,
			logrusLine{Time: time.Date(2023, 6, 25, 8, 27, 37, 33003098, time.UTC), Level: "info", Msg: "Opened local port tcp:443"}, true},
		{"crio 1.32 time and fields", `time="2025-03-01T10:00:00.5Z" level=info msg="Ran pod sandbox x" id=abc name=/runtime.v1.RuntimeService/RunPodSandbox`,
			logrusLine{Time: time.Date(2025, 3, 1, 10, 0, 0, 500000000, time.UTC), Level: "info", Msg: "Ran pod sandbox x",
				Rest: []byte("id=abc name=/runtime.v1.RuntimeService/RunPodSandbox")}, true},
		{"escaped newlines and quotes", `time="2025-03-01T10:00:00Z" level=info msg="a\n\"b\""`,
			logrusLine{Time: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Level: "info", Msg: "a\n\"b\""}, true},
		{"json", `{"level":"info","msg":"m","time":"2025-03-01T10:00:00Z"}`,
			logrusLine{Time: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Level: "info", Msg: "m"}, true},
		{"unterminated msg", `time="x" level=info msg="abc`, logrusLine{Level: "info"}, false},
		{"not logrus", `I0625 16:27:37.033003 1 x.go:1] hi`, logrusLine{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseLogrus([]byte(tt.line))
			if ok != tt.ok {
				t.Fatalf("got ok %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
				cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseKlog(t *testing.T) {
	tc := &TimeContext{Loc: time.UTC, Ref: testRef}
	tests := []struct {
		name, line, msg string
		want            time.Time
		ok              bool
	}{
		{"padded pid", "I0625 16:27:37.033003    4242 gateway_iptables.go:45] Adding x", "Adding x",
			time.Date(2026, 6, 25, 16, 27, 37, 33003000, time.UTC), true},
		{"error level", "E1122 15:48:52.587307   10678 proxier.go:734] \"Error\"", "\"Error\"",
			time.Date(2026, 11, 22, 15, 48, 52, 587307000, time.UTC), true},
		{"bad month", "I1325 16:27:37.033003 1 x.go:1] m", "", time.Time{}, false},
		{"no bracket", "I0625 16:27:37.033003 1 x.go:1 m", "", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg, ok := parseKlog([]byte(tt.line), tc)
			if ok != tt.ok || string(msg) != tt.msg || !got.Equal(tt.want) {
				t.Errorf("got (%v, %q, %v), want (%v, %q, %v)", got, msg, ok, tt.want, tt.msg, tt.ok)
			}
		})
	}
}

func TestParseRuleArgs(t *testing.T) {
	tests := []struct {
		name, args string
		want       ruleArgs
	}{
		{"crio new rule", `-I KUBE-HOSTPORTS -m comment --comment "k8s_POD_a_b_c_0_ hostport 80" -m tcp -p tcp --dport 80 -j KUBE-HP-X`,
			ruleArgs{Op: "-I", Chain: "KUBE-HOSTPORTS", Proto: "tcp", DPort: "80", Target: "KUBE-HP-X", Comment: "k8s_POD_a_b_c_0_ hostport 80"}},
		{"crio DNAT with =", `-A KUBE-HP-X -m comment --comment "c" -m tcp -p tcp -d 192.0.2.1/32 -j DNAT --to-destination=10.88.0.5:80`,
			ruleArgs{Op: "-A", Chain: "KUBE-HP-X", Proto: "tcp", Dest: "192.0.2.1", Target: "DNAT", ToDest: "10.88.0.5:80", Comment: "c"}},
		{"docker negated interface and any address", `--wait -t nat -A DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i docker0`,
			ruleArgs{Op: "-A", Chain: "DOCKER", Proto: "tcp", DPort: "8080", Target: "DNAT", ToDest: "172.17.0.2:80"}},
		{"negated destination dropped", `-A X ! -d 127.0.0.0/8 -p udp --dport 53 -j DNAT`,
			ruleArgs{Op: "-A", Chain: "X", Proto: "udp", DPort: "53", Target: "DNAT"}},
		{"ovn uppercase protocol", `-p TCP -m addrtype --dst-type LOCAL --dport 32718 -j DNAT --to-destination [fd02::1]:80`,
			ruleArgs{Proto: "tcp", DPort: "32718", Target: "DNAT", ToDest: "[fd02::1]:80"}},
		{"escaped quote in comment", `-A X -m comment --comment "a \"b\" c" -j ACCEPT`,
			ruleArgs{Op: "-A", Chain: "X", Comment: `a "b" c`, Target: "ACCEPT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseRuleArgs(tt.args)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPythonArgs(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      bool
	}{
		{"port signal", `'public', '8080', 'tcp', 0`, []string{"public", "8080", "tcp", "0"}, false},
		{"empty zone", `'', '8080', 'tcp'`, []string{"", "8080", "tcp"}, false},
		{"rich rule with double quotes", `'public', 'rule family="ipv4" port port="9100" protocol="tcp" accept', 0`,
			[]string{"public", `rule family="ipv4" port port="9100" protocol="tcp" accept`, "0"}, false},
		{"escaped quote", `'it\'s'`, []string{"it's"}, false},
		{"unterminated", `'public`, nil, true},
		{"none", ``, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pythonArgs([]byte(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("got error %v, want error %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodNames(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"≤1.30 empty namespace suffix", "k8s_POD_nginx_default_0b1c_0_ hostport 80", "default/nginx"},
		{"with namespace suffix", "k8s_POD_nginx_default_0b1c_0_default hostport 80", "default/nginx"},
		{"plain full name", "nginx_default hostport 80", "default/nginx"},
		{"name only", "nginx_ hostport 80", "nginx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podOfComment(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServices(t *testing.T) {
	tests := []struct {
		name string
		svc  string
		want []ServicePort
		ok   bool
	}{
		{"https", "https", []ServicePort{{Proto: "tcp", From: 443}}, true},
		{"range", "kube-nodeport-services", []ServicePort{{Proto: "tcp", From: 30000, To: 32767}}, true},
		{"unknown", "no-such-service", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := DefaultServices().Ports(tt.svc)
			if ok != tt.ok {
				t.Fatalf("got ok %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestServicesOverride(t *testing.T) {
	etc := fstest.MapFS{
		"https.xml":  {Data: []byte(`<service><port protocol="tcp" port="8443"/></service>`)},
		"my-app.xml": {Data: []byte(`<service><port protocol="udp" port="5000-5002"/><include service="ssh"/></service>`)},
	}
	svc, err := NewServices(etc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		svc  string
		want []ServicePort
	}{
		{"override replaces the default", "https", []ServicePort{{Proto: "tcp", From: 8443}}},
		{"custom service with include", "my-app", []ServicePort{{Proto: "tcp", From: 22}, {Proto: "udp", From: 5000, To: 5002}}},
		{"defaults still there", "kubelet", []ServicePort{{Proto: "tcp", From: 10250}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := svc.Ports(tt.svc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewServices(fstest.MapFS{"bad.xml": {Data: []byte("<service><port")}}); err == nil {
		t.Error("got nil error for broken XML, want one")
	}
	if got, _ := DefaultServices().Ports("https"); got[0].From != 443 {
		t.Errorf("override leaked into the defaults: https is %v", got)
	}
}
