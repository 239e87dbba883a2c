package report

import (
	"fmt"
	"io"
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
	"github.com/exposure-audit/exposure/trace"
)

// TraceText prints a trace the way the kernel's TRACE target logs a packet
// (table:chain:rule:N / :policy / :return), with each rule's text and
// source position, one block per outcome.
func TraceText(w io.Writer, in trace.Input, res trace.Result) error {
	bw := &errWriter{w: w}
	origin := "from " + in.Packet.InIface
	if in.Local {
		origin = "sent by this host"
	}
	bw.printf("packet %s (%s)\n", describe(&in.Packet), origin)
	for i, o := range res.Outcomes {
		bw.printf("\noutcome %d/%d: %s", i+1, len(res.Outcomes), o.Verdict)
		if o.RejectWith != "" {
			bw.printf(" (%s)", o.RejectWith)
		}
		bw.printf(", delivered %s, probability %s\n", o.Delivered, prob(o.Probability))
		for _, s := range o.Path {
			bw.printf("  TRACE: %s\n", stepLine(s))
			if s.Text != "" {
				bw.printf("         %s  [%s]\n", s.Text, pos(s))
			}
		}
		bw.printf("  final: %s:%d -> %s:%d", o.Final.Src, o.Final.SPort, o.Final.Dst, o.Final.DPort)
		if o.OutIface != "" {
			bw.printf(" out %s", o.OutIface)
		}
		bw.printf("\n")
		for _, a := range o.Assumptions {
			bw.printf("  assumes: %s\n", a)
		}
	}
	return bw.err
}

func stepLine(s trace.Step) string {
	table := s.Table
	if s.Backend == string(nf.BackendNft) {
		table = s.Family + " " + s.Table
	}
	if s.Policy {
		return fmt.Sprintf("%s:%s:policy -> %s (hook %s)", table, s.Chain, s.Target, s.Hook)
	}
	t := s.Target
	if t == "" {
		t = "(no target)"
	}
	return fmt.Sprintf("%s:%s:rule:%d -> %s (hook %s)", table, s.Chain, s.Rule, t, s.Hook)
}

func pos(s trace.Step) string {
	if s.File == "" {
		return fmt.Sprintf("line %d", s.Line)
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

func prob(p float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", p), "0"), ".")
	if s == "" {
		return "0"
	}
	return s
}

func describe(p *nf.Packet) string {
	s := fmt.Sprintf("%s %s", nf.ProtoName(p.Proto), p.Src)
	if nf.HasPorts(p.Proto) {
		s += fmt.Sprintf(":%d -> %s:%d", p.SPort, p.Dst, p.DPort)
	} else {
		s += " -> " + p.Dst.String()
	}
	if p.Proto == nf.ProtoICMP || p.Proto == nf.ProtoICMPv6 {
		s += fmt.Sprintf(" type %d code %d", p.ICMPType, p.ICMPCode)
	}
	return s
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
