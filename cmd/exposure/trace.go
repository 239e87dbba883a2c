package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/exposure-audit/exposure/report"
	"github.com/exposure-audit/exposure/trace"
)

// traceOpts are the flags of `exposure trace` that are not about the packet.
type traceOpts struct {
	rules  ruleInputs
	output string
	batch  string
	pkt    packetFlags
}

func newTraceCmd(a *app) *cobra.Command {
	o := &traceOpts{}
	cmd := &cobra.Command{
		Use:   "trace --rules FILE -p PROTO -s SRC -d DST [flags]",
		Short: "Follow one packet through the node's rulesets exactly as the kernel would",
		Long: `trace walks a packet through every table and chain the kernel would run it through
(raw, conntrack, mangle, nat, routing, filter, security, nat), across iptables-legacy,
iptables-nft and nftables tables, and prints every rule whose matches held, every policy
applied, and the packet's fate. Random choices (kube-proxy's statistic rules) fork the
trace into outcomes with probabilities; matches that depend on state the tool cannot see
fork into outcomes marked with the assumption each one makes (or use --assume).`,
		Example: `  exposure trace --rules examples/kube-proxy-node.iptables-save --local-addrs 192.0.2.10 \
      -p tcp -s 198.51.100.7 -d 192.0.2.10 --dport 30080 -i eth0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrace(a, o) },
	}
	f := cmd.Flags()
	o.rules.register(f)
	f.StringVarP(&o.output, "output", "o", "text", "output format: text|json")
	f.StringVar(&o.batch, "batch", "", "read one packet per line (same flags) from FILE (- for stdin) and print JSON lines")
	o.pkt.register(f)
	return cmd
}

func runTrace(a *app, o *traceOpts) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("unknown output format %q (text|json)", o.output))
	}
	sim, err := o.rules.simulator(a)
	if err != nil {
		return err
	}
	if o.batch != "" {
		return runBatch(a, sim, o)
	}
	in, notes, err := o.pkt.input()
	if err != nil {
		return usageError(err)
	}
	res, err := sim.Trace(in)
	if err != nil {
		return usageError(err)
	}
	addNotes(&res, notes)
	if o.output == "json" {
		return report.JSON(a.stdout, res)
	}
	return report.TraceText(a.stdout, in, res)
}

// addNotes puts the assumptions the flags' defaults made in front of each
// outcome's own.
func addNotes(res *trace.Result, notes []string) {
	if len(notes) == 0 {
		return
	}
	for i := range res.Outcomes {
		res.Outcomes[i].Assumptions = append(notes[:len(notes):len(notes)], res.Outcomes[i].Assumptions...)
	}
}

// runBatch traces one packet per input line and prints one JSON object per
// line: {"line": N, "outcomes": [...]} or {"line": N, "error": "..."}.
func runBatch(a *app, sim *trace.Simulator, o *traceOpts) error {
	var r io.Reader = a.stdin
	if o.batch != "-" {
		f, err := os.Open(o.batch)
		if err != nil {
			return usageError(fmt.Errorf("open batch: %w", err))
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	enc := json.NewEncoder(a.stdout)
	bad := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out := batchLine(sim, o.pkt, line, n)
		if out.Error != "" {
			bad++
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return usageError(fmt.Errorf("read batch: %w", err))
	}
	if bad > 0 {
		return usageError(fmt.Errorf("%d batch line(s) were invalid", bad))
	}
	return nil
}

type batchResult struct {
	Line     int             `json:"line"`
	Outcomes []trace.Outcome `json:"outcomes"`
	Error    string          `json:"error,omitempty"`
}

func batchLine(sim *trace.Simulator, defaults packetFlags, line string, n int) batchResult {
	pf := defaults
	fs := pflag.NewFlagSet("batch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pf.register(fs)
	res := batchResult{Line: n, Outcomes: []trace.Outcome{}}
	if err := fs.Parse(strings.Fields(line)); err != nil {
		res.Error = err.Error()
		return res
	}
	in, notes, err := pf.input()
	if err == nil {
		var r trace.Result
		r, err = sim.Trace(in)
		addNotes(&r, notes)
		res.Outcomes = r.Outcomes
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}
