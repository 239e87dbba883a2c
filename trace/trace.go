package trace

import (
	"errors"
	"fmt"
	"slices"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// MaxOutcomes bounds how many outcomes one trace may fork into.
const MaxOutcomes = 65536

// ErrTooManyOutcomes: the packet forks into more outcomes than MaxOutcomes.
var ErrTooManyOutcomes = errors.New("trace forks into too many outcomes")

// Simulator traces packets through one validated ruleset. It is safe for
// concurrent use once built.
type Simulator struct {
	rs    *nf.Ruleset
	env   *nf.Env
	plan  *plan
	state *nf.CTState
}

// New prepares a simulator. The ruleset must have passed nf.Validate.
func New(rs *nf.Ruleset, env *nf.Env) *Simulator {
	if env == nil {
		env = nf.NewEnv()
	}
	return &Simulator{rs: rs, env: env, plan: newPlan(rs)}
}

// Env returns the simulator's environment.
func (s *Simulator) Env() *nf.Env { return s.env }

// Trace follows one packet and returns every outcome.
func (s *Simulator) Trace(in Input) (Result, error) {
	if err := checkInput(&in); err != nil {
		return Result{}, err
	}
	sim := *s
	sim.state = in.State
	t := &tracer{}
	w := &walker{sim: &sim, pkt: in.Packet, prob: 1, local: in.Local, obs: in.Observe, tr: t, stack: make([]frame, 0, minStack)}
	w.hook = nf.HookPrerouting
	if in.Local {
		w.hook = nf.HookOutput
	}
	initPacket(&w.pkt, s.env, in.Local)
	if !in.Local && !w.received() {
		return Result{Outcomes: t.outcomes}, nil
	}
	if in.Local && !w.routeOut() {
		return Result{Outcomes: t.outcomes}, nil
	}
	// Branches are walked depth first, the last of a fork first.
	var work []pending
	for cur := w; cur != nil; {
		forks := cur.run()
		if cur.done {
			t.recycle(cur)
		}
		work = append(work, forks...)
		if len(forks) > 0 {
			// Nearly every pending branch ends in an outcome: make room
			// for them at once.
			t.outcomes = slices.Grow(t.outcomes, len(work))
		}
		if len(work)+len(t.outcomes) > MaxOutcomes {
			return Result{}, fmt.Errorf("trace packet: %w (%d)", ErrTooManyOutcomes, MaxOutcomes)
		}
		cur = nil
		if n := len(work); n > 0 {
			cur, work = work[n-1].walker(), work[:n-1]
		}
	}
	return Result{Outcomes: t.outcomes}, nil
}

func checkInput(in *Input) error {
	p := &in.Packet
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		return errors.New("trace packet: source and destination addresses are required")
	}
	p.Src, p.Dst = p.Src.Unmap(), p.Dst.Unmap()
	if p.Src.Is4() != p.Dst.Is4() {
		return fmt.Errorf("trace packet: source %s and destination %s are of different families", p.Src, p.Dst)
	}
	p.Family = nf.IPv4
	if p.Dst.Is6() {
		p.Family = nf.IPv6
	}
	if !in.Local && p.InIface == "" {
		return errors.New("trace packet: a packet from outside needs its input interface")
	}
	return nil
}

// initPacket fills what the kernel knows of a packet before any hook.
func initPacket(p *nf.Packet, env *nf.Env, local bool) {
	if p.TTL == 0 {
		p.TTL = 64
	}
	if p.Length == 0 {
		p.Length = defaultLength(p)
	}
	if local {
		p.InIface = ""
	}
	switch t := env.AddrType(p.Dst); {
	case t&nf.AddrTypeBroadcast != 0:
		p.PktType = nf.PktBroadcast
	case t&nf.AddrTypeMulticast != 0:
		p.PktType = nf.PktMulticast
	}
	if !local {
		// No socket sent it: owner matches have nothing to test.
		p.UID, p.GID = -1, -1
	}
}

// defaultLength is the length of a minimal packet: IP header plus the
// transport header (TCP 20, UDP 8, ICMP 8 bytes).
func defaultLength(p *nf.Packet) uint16 {
	ip := uint16(20)
	if p.Family == nf.IPv6 {
		ip = 40
	}
	switch p.Proto {
	case nf.ProtoTCP:
		return ip + 20
	case nf.ProtoUDP, nf.ProtoICMP, nf.ProtoICMPv6, nf.ProtoUDPLite:
		return ip + 8
	case nf.ProtoSCTP:
		return ip + 12 + 20
	}
	return ip
}
