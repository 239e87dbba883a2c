package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/exposure-audit/exposure/collect"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/exposure-audit/exposure/logs"
)

// eventsOpts are the flags of `exposure events`.
type eventsOpts struct {
	journal  bool
	since    string
	until    string
	follow   bool
	state    bool
	output   string
	year     int
	tz       string
	services []string
	snapshot []string
	live     bool
	now      func() time.Time
	exec     logs.Exec
}

// newEventsCmd builds `exposure events`: the timeline of host-port events
// read from CRI-O, OVN-Kubernetes, firewalld, kube-proxy and dockerd logs.
func newEventsCmd(a *app) *cobra.Command {
	return eventsCommand(a, &eventsOpts{now: time.Now, exec: logs.OSExec{}})
}

// eventsCommand builds the command around o, whose clock and exec tests
// replace.
func eventsCommand(a *app, o *eventsOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events [FILE|DIR|-]... [--journal]",
		Short: "Timeline of who opened and closed which host port, read from component logs",
		Long: "Reads CRI-O, OVN-Kubernetes, firewalld (--debug), kube-proxy and dockerd logs — plain, rotated, gzipped,\n" +
			"journalctl short/short-iso/short-precise/cat/json, CRI log files — and prints one event per port change,\n" +
			"sorted by time across sources. --state prints what the logs say is open now. See docs/events.md for what\n" +
			"the logs cannot show.",
		RunE: func(cmd *cobra.Command, args []string) error { return runEvents(cmd.Context(), a, o, args) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.journal, "journal", false, "read journalctl -o json for the runtime, firewall and node units")
	f.StringVar(&o.since, "since", "", "keep events at or after T (RFC 3339, \"2006-01-02 15:04:05\", or a duration ago like 2h)")
	f.StringVar(&o.until, "until", "", "keep events before T (same forms as --since)")
	f.BoolVarP(&o.follow, "follow", "f", false, "keep reading the files (or the journal) and print events as they come")
	f.BoolVar(&o.state, "state", false, "print the ports the logs say are open now, per source, with the last event for each")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table|json|yaml")
	f.IntVar(&o.year, "year", 0, "year of year-less timestamps (klog, journalctl -o short); default: from the file's mtime")
	f.StringVar(&o.tz, "tz", "", "time zone of zone-less timestamps (firewalld, klog); default: local")
	f.StringSliceVar(&o.services, "firewalld-services", nil, "directory of firewalld service XML overriding the built-in defaults (repeatable)")
	f.StringSliceVar(&o.snapshot, "snapshot", nil, "snapshot bundle (exposure snapshot -o FILE) or ruleset dumps (iptables-save, nft list ruleset [-j]) of the node: reconcile the logs with its rules and sockets (repeatable)")
	f.BoolVar(&o.live, "live", false, "reconcile the logs with this node's rules and sockets, read live (read-only)")
	return cmd
}

func runEvents(ctx context.Context, a *app, o *eventsOpts, args []string) error {
	rd, err := o.reader()
	if err != nil {
		return usageError(err)
	}
	if err := o.validate(args); err != nil {
		return usageError(err)
	}
	inputs, err := o.inputs(a, rd, args)
	if err != nil {
		return usageError(err)
	}
	if o.follow {
		return o.runFollow(ctx, a, rd, inputs)
	}
	tl, err := rd.Read(ctx, inputs)
	if err != nil {
		return err
	}
	a.log.Debug("read logs", "inputs", len(inputs), "events", len(tl.Events), "skipped", tl.Skipped.Total())
	if len(o.snapshot) > 0 || o.live {
		return o.reconcile(ctx, a, tl)
	}
	if o.state {
		return renderState(a.stdout, o.output, logs.Replay(tl.Events), tl)
	}
	return renderTimeline(a.stdout, o.output, tl)
}

func (o *eventsOpts) validate(args []string) error {
	switch {
	case o.output != "table" && o.output != "json" && o.output != "yaml":
		return fmt.Errorf("parse --output: %q is not table, json or yaml", o.output)
	case len(args) == 0 && !o.journal:
		return errors.New("read logs: give files, directories, - for stdin, or --journal")
	case len(o.snapshot) > 0 && o.live:
		return errors.New("parse flags: --snapshot and --live do not go together")
	case o.follow && (o.state || len(o.snapshot) > 0 || o.live):
		return errors.New("parse flags: --follow goes with neither --state nor --snapshot")
	case o.state && (len(o.snapshot) > 0 || o.live):
		return errors.New("parse flags: --state and --snapshot do not go together")
	}
	return nil
}

// reader builds the logs.Reader from the flags.
func (o *eventsOpts) reader() (*logs.Reader, error) {
	rd := &logs.Reader{Time: logs.TimeContext{Year: o.year, Ref: o.now()}}
	if o.tz != "" {
		loc, err := time.LoadLocation(o.tz)
		if err != nil {
			return nil, fmt.Errorf("parse --tz: %w", err)
		}
		rd.Time.Loc = loc
	}
	var err error
	if rd.Since, err = parseWhen(o.since, o.now(), rd.Time.Loc); err != nil {
		return nil, fmt.Errorf("parse --since: %w", err)
	}
	if rd.Until, err = parseWhen(o.until, o.now(), rd.Time.Loc); err != nil {
		return nil, fmt.Errorf("parse --until: %w", err)
	}
	svc, err := o.serviceCatalog()
	if err != nil {
		return nil, err
	}
	rd.Options.Services = svc
	return rd, nil
}

// serviceCatalog loads firewalld services: the built-in defaults, then the
// node's own directories when reading the live journal, then the flag's.
func (o *eventsOpts) serviceCatalog() (*logs.Services, error) {
	dirs := o.services
	if o.journal && len(dirs) == 0 {
		dirs = existingDirs("/usr/lib/firewalld/services", "/etc/firewalld/services")
	}
	var fss []fs.FS
	for _, d := range dirs {
		fss = append(fss, os.DirFS(d))
	}
	svc, err := logs.NewServices(fss...)
	if err != nil {
		return nil, fmt.Errorf("load firewalld services: %w", err)
	}
	return svc, nil
}

func existingDirs(dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

func (o *eventsOpts) inputs(a *app, rd *logs.Reader, args []string) ([]logs.Input, error) {
	ins, err := logs.FileInputs(args, a.stdin)
	if err != nil {
		return nil, err
	}
	if o.journal {
		ins = append(ins, logs.JournalInput(o.exec, rd.Since, rd.Until, o.follow))
	}
	return ins, nil
}

// parseWhen reads an absolute time or a duration before now ("2h", "-2h").
// A time without a zone is in loc (--tz), else local time.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.Local
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a time nor a duration", s)
}

// runFollow reads every input until interrupted, printing events as they
// come (table rows, or one JSON/YAML document per event): files are
// followed across rotation and truncation, stdin and the journal
// (journalctl --follow) are streams already. Skipped lines, problems and
// notes go to stderr at the end.
func (o *eventsOpts) runFollow(ctx context.Context, a *app, rd *logs.Reader, inputs []logs.Input) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := newStreamPrinter(a.stdout, o.output)
	tls := make([]*logs.Timeline, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		tls[i] = &logs.Timeline{}
		wg.Go(func() { errs[i] = follow1(ctx, rd, in, tls[i], p.print) })
	}
	wg.Wait()
	if err := renderTrailer(a.stderr, mergeTrailers(tls)); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func follow1(ctx context.Context, rd *logs.Reader, in logs.Input, tl *logs.Timeline, emit func(logs.Event)) error {
	if in.Path == "" {
		return rd.ReadInput(ctx, in, tl, emit)
	}
	return (&logs.Follower{}).Follow(ctx, rd, in.Path, tl, emit)
}

// mergeTrailers gathers what the followers skipped and could not read.
func mergeTrailers(tls []*logs.Timeline) *logs.Timeline {
	out := &logs.Timeline{}
	for _, tl := range tls {
		out.MergeDiagnostics(tl)
	}
	return out
}

// streamPrinter prints events one at a time, safe for several followers.
type streamPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	format string
	header bool
}

func newStreamPrinter(w io.Writer, format string) *streamPrinter {
	return &streamPrinter{w: w, format: format}
}

func (p *streamPrinter) print(e logs.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.format {
	case "json":
		b, _ := json.Marshal(e)
		fmt.Fprintf(p.w, "%s\n", b)
	case "yaml":
		b, _ := yaml.Marshal(e)
		fmt.Fprintf(p.w, "---\n%s", b)
	default:
		tw := tabwriter.NewWriter(p.w, 0, 8, 2, ' ', 0)
		if !p.header {
			fmt.Fprintln(tw, eventHeader)
			p.header = true
		}
		fmt.Fprintln(tw, eventRow(e))
		tw.Flush()
	}
}

const eventHeader = "TIME\tSOURCE\tACTION\tPROTO\tPORT\tADDR\tZONE\tCHAIN\tTO\tPOD\tEVIDENCE"

func eventRow(e logs.Event) string {
	return strings.Join([]string{timeCell(e.Time), string(e.Source), string(e.Action), dash(e.Proto),
		portCell(e.Port, e.PortTo), dash(e.Addr), dash(e.Zone), dash(e.Chain), dash(e.To), dash(e.Pod),
		fmt.Sprintf("%s:%d", e.Evidence.File, e.Evidence.Line)}, "\t")
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339Nano)
}

func portCell(from, to int) string {
	switch {
	case from == 0 && to == 0:
		return "-"
	case to != 0:
		return strconv.Itoa(from) + "-" + strconv.Itoa(to)
	}
	return strconv.Itoa(from)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// renderTimeline writes the timeline as a table, JSON or YAML.
func renderTimeline(w io.Writer, format string, tl *logs.Timeline) error {
	if format != "table" {
		return renderData(w, format, tl)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, eventHeader)
	for _, e := range tl.Events {
		fmt.Fprintln(tw, eventRow(e))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if len(tl.Events) == 0 {
		fmt.Fprintln(w, noEventsHint)
	}
	return renderTrailer(w, tl)
}

// noEventsHint says why a log may hold no port event (docs/events.md).
const noEventsHint = "no port events: CRI-O ≥1.31 logs no hostports, ovnkube logs its rules only at level 5, " +
	"firewalld only with --debug, dockerd only failures unless --debug, kube-proxy ≥1.24 no NodePort sockets"

// renderTrailer lists skipped lines, problems and notes under a table.
func renderTrailer(w io.Writer, tl *logs.Timeline) error {
	s := tl.Skipped
	if s.Total() > 0 {
		fmt.Fprintf(w, "\nskipped %d lines: %d binary, %d invalid UTF-8, %d too long, %d truncated\n",
			s.Total(), s.Binary, s.InvalidUTF8, s.TooLong, s.Truncated)
	}
	for _, p := range tl.Problems {
		fmt.Fprintf(w, "problem: %s:%d: %s\n", p.File, p.Line, p.Err)
	}
	for _, n := range tl.Notes {
		fmt.Fprintf(w, "note: %s:%d: %s\n", n.File, n.Line, n.Note)
	}
	return nil
}

// stateModel is the JSON/YAML shape of --state.
type stateModel struct {
	Ports    []logs.PortState `json:"ports"`
	Pending  []logs.PortState `json:"pending"`
	Skipped  logs.Skipped     `json:"skipped"`
	Problems []logs.Problem   `json:"problems"`
	Notes    []logs.Note      `json:"notes"`
}

// renderState writes what the logs say is open now.
func renderState(w io.Writer, format string, st logs.State, tl *logs.Timeline) error {
	if format != "table" {
		return renderData(w, format, stateModel{Ports: st.Ports, Pending: st.Pending,
			Skipped: tl.Skipped, Problems: tl.Problems, Notes: tl.Notes})
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATE\tPROTO\tPORT\tADDR\tZONE\tCHAIN\tTO\tPOD\tSINCE\tEVIDENCE")
	for _, p := range st.Ports {
		fmt.Fprintln(tw, stateRow(p, "open"))
	}
	for _, p := range st.Pending {
		fmt.Fprintln(tw, stateRow(p, "pending"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return renderTrailer(w, tl)
}

func stateRow(p logs.PortState, state string) string {
	if state == "pending" {
		state = "pending-" + string(p.Last.Action)
	}
	return strings.Join([]string{string(p.Source), state, dash(p.Proto), portCell(p.Port, p.PortTo), dash(p.Addr),
		dash(p.Zone), dash(p.Chain), dash(p.To), dash(p.Pod), timeCell(p.Last.Time),
		fmt.Sprintf("%s:%d", p.Last.Evidence.File, p.Last.Evidence.Line)}, "\t")
}

func renderData(w io.Writer, format string, v any) error {
	var b []byte
	var err error
	if format == "yaml" {
		b, err = yaml.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	_, err = w.Write(b)
	return err
}

// reconcile compares what the logs say is open with the node: a snapshot
// bundle (rules and sockets), ruleset dumps (rules only), or the live node.
func (o *eventsOpts) reconcile(ctx context.Context, a *app, tl *logs.Timeline) error {
	state, err := o.nodeState(ctx)
	if err != nil {
		return usageError(err)
	}
	rc := logs.Reconcile(logs.Replay(tl.Events), state)
	a.log.Debug("reconciled", "missing", len(rc.Missing), "unexplained", len(rc.Unexplained))
	return renderReconciliation(a.stdout, o.output, rc, tl)
}

// reconcileModel is the JSON/YAML shape of --snapshot.
type reconcileModel struct {
	logs.Reconciliation
	Skipped  logs.Skipped   `json:"skipped"`
	Problems []logs.Problem `json:"problems"`
	Notes    []logs.Note    `json:"notes"`
}

func renderReconciliation(w io.Writer, format string, rc logs.Reconciliation, tl *logs.Timeline) error {
	if format != "table" {
		return renderData(w, format, reconcileModel{Reconciliation: rc, Skipped: tl.Skipped, Problems: tl.Problems, Notes: tl.Notes})
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FINDING\tSOURCE\tPROTO\tPORT\tADDR\tZONE\tCHAIN\tTO\tREASON\tEVIDENCE")
	for _, f := range rc.Missing {
		fmt.Fprintln(tw, findingRow("missing", f))
	}
	for _, f := range rc.Unexplained {
		fmt.Fprintln(tw, findingRow("unexplained", f))
	}
	for _, p := range rc.NotReloaded {
		fmt.Fprintln(tw, findingRow("not-reloaded", logs.Finding{Source: p.Source, Proto: p.Proto, Port: p.Port,
			PortTo: p.PortTo, Zone: p.Zone, Chain: p.Chain, To: p.To, Reason: "permanent " + string(p.Last.Action) + " after the last reload",
			Last: &p.Last}))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return renderTrailer(w, tl)
}

func findingRow(kind string, f logs.Finding) string {
	ev := "-"
	if f.Last != nil {
		ev = fmt.Sprintf("%s:%d", f.Last.Evidence.File, f.Last.Evidence.Line)
	}
	return strings.Join([]string{kind, string(f.Source), dash(f.Proto), portCell(f.Port, f.PortTo), dash(f.Addr),
		dash(f.Zone), dash(f.Chain), dash(f.To), f.Reason, ev}, "\t")
}

// nodeState reads the node the logs are reconciled with.
func (o *eventsOpts) nodeState(ctx context.Context) (logs.NodeState, error) {
	if o.live {
		return bundleState(liveCollector("/proc").Snapshot(ctx))
	}
	if len(o.snapshot) == 1 {
		if data, err := os.ReadFile(o.snapshot[0]); err == nil {
			if b, err := collect.ReadBundle(data); err == nil {
				return bundleState(b)
			}
		}
	}
	rs, err := newLoader().LoadFiles(o.snapshot...)
	if err != nil {
		return nil, err
	}
	return logs.NewRulesetState(rs), nil
}

// bundleState is a snapshot bundle as logs.NodeState: its rules, and the
// listening sockets of its /proc/net tables with their processes.
func bundleState(b *collect.Bundle) (logs.NodeState, error) {
	rs, err := b.Rules(newLoader())
	if err != nil {
		return nil, err
	}
	return &nodeSockets{RulesetState: logs.NewRulesetState(rs), sockets: bundleSockets(b)}, nil
}

type nodeSockets struct {
	*logs.RulesetState
	sockets []logs.Socket
}

// Sockets implements logs.NodeState: nil when the bundle holds no socket
// tables (unknown, not "nothing listens").
func (n *nodeSockets) Sockets() []logs.Socket { return n.sockets }

func bundleSockets(b *collect.Bundle) []logs.Socket {
	if len(b.ProcNet) == 0 {
		return nil
	}
	owner := map[uint64]string{}
	for _, p := range b.Processes {
		for _, ino := range p.Sockets {
			owner[ino] = p.Comm
		}
	}
	out := []logs.Socket{}
	for _, f := range b.ProcNet {
		proto := strings.TrimRight(f.Name, "6")
		socks, err := collect.ParseProcNet([]byte(f.Data), f.Name)
		if err != nil {
			continue
		}
		for _, s := range socks {
			if (proto == "tcp" && s.State != 0x0A) || (proto == "udp" && s.State != 0x07) || proto == "raw" {
				continue
			}
			out = append(out, logs.Socket{Proto: proto, Addr: s.Addr.String(), Port: s.Port, Process: owner[s.Inode]})
		}
	}
	return out
}
