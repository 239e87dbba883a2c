package iptables

import (
	"runtime"
	"strings"
	"sync"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// minParallel is the dump size from which rule lines are parsed by several
// workers.
const minParallel = 1 << 20

// ruleJob is an "-A CHAIN ..." line of an iptables-save dump whose parsing
// is deferred to a worker. The dump's structure (tables, chains, COMMIT)
// is read first, in order; rules only append to their chain, so parsing
// them in parallel and attaching the results in line order gives the same
// ruleset as a sequential parse.
type ruleJob struct {
	line   string
	at     int
	lineNo int
	ctr    nf.Counters
	chain  *nf.Chain
	fam    nf.IPFamily
	// rule is the parsed rule; rules holds them when the line expands
	// into several (-s a,b).
	rule  *nf.Rule
	rules []*nf.Rule
	err   error
}

// parallelFrom is the dump size from which rule lines are queued for
// workers. Any other command (-I, -D, -F, -X, -P, -N, ...) first attaches
// the queued rules, so queueing never reorders anything.
func parallelFrom(text string) bool { return len(text) >= minParallel }

// deferRule queues an "-A" line (s starts at "-A ") when the parser runs
// in parallel mode; it reports whether it did.
func (p *saveParser) deferRule(s string, line string, col int, ctr nf.Counters) (bool, error) {
	if !p.parallel || p.table == nil || !strings.HasPrefix(s, "-A ") {
		return false, nil
	}
	name, _, _ := strings.Cut(s[3:], " ")
	name = strings.TrimRight(name, "\r\t")
	c := p.lastChain
	if c == nil || c.Name != name || c.Table != p.table {
		// iptables-save groups rules by chain, in declaration order: most
		// lines reuse the previous line's chain or the next one's.
		if c = p.table.ChainAfter(c, name); c != nil {
			p.lastChain = c
		}
	}
	if c == nil {
		return true, p.errorf(col+3, line, "chain %q not declared in table %s", name, p.table.Name)
	}
	if p.jobs == nil {
		p.jobs = p.newQueue()
	}
	p.jobs = append(p.jobs, ruleJob{line: line, at: col - 1, lineNo: p.line, ctr: ctr, chain: c, fam: p.fam})
	if len(p.jobs) >= jobBatch {
		return true, p.dispatch()
	}
	return true, nil
}

// jobBatch is how many rule lines are queued before workers take them;
// maxInFlight bounds the batches being parsed while the structure pass
// goes on.
const (
	jobBatch    = 2048
	maxInFlight = 2
)

// batch is a run of queued rules being parsed in the background.
type batch struct {
	jobs []ruleJob
	done chan struct{}
}

// dispatch hands the queued rules to background workers and starts a new
// queue; it first attaches the oldest batch when too many are in flight.
func (p *saveParser) dispatch() error {
	if len(p.inFlight) >= maxInFlight {
		if err := p.attach(p.inFlight[0], 0); err != nil {
			return err
		}
		p.inFlight = p.inFlight[1:]
	}
	b := &batch{jobs: p.jobs, done: make(chan struct{})}
	go func() {
		p.parseJobs(b.jobs)
		close(b.done)
	}()
	p.inFlight = append(p.inFlight, b)
	p.jobs = p.newQueue()
	return nil
}

// newQueue returns an empty job queue, reusing the one of a batch already
// attached.
func (p *saveParser) newQueue() []ruleJob {
	if n := len(p.spare); n > 0 {
		q := p.spare[n-1]
		p.spare = p.spare[:n-1]
		return q
	}
	return make([]ruleJob, 0, jobBatch)
}

// recycle keeps an attached batch's queue for newQueue.
func (p *saveParser) recycle(jobs []ruleJob) {
	clear(jobs)
	p.spare = append(p.spare, jobs[:0])
}

// runJobs waits for the batches in flight and parses the queue, attaching
// every rule in line order. It returns the error of the earliest bad line
// before limit (0: no limit), so errors are the ones a sequential parse
// reports.
func (p *saveParser) runJobs(limit int) error {
	for len(p.inFlight) > 0 {
		if err := p.attach(p.inFlight[0], limit); err != nil {
			return err
		}
		p.inFlight = p.inFlight[1:]
	}
	if len(p.jobs) == 0 {
		return nil
	}
	p.parseJobs(p.jobs)
	err := p.attachJobs(p.jobs, limit)
	clear(p.jobs)
	p.jobs = p.jobs[:0]
	return err
}

func (p *saveParser) attach(b *batch, limit int) error {
	<-b.done
	if err := p.attachJobs(b.jobs, limit); err != nil {
		return err
	}
	p.recycle(b.jobs)
	return nil
}

func (p *saveParser) attachJobs(jobs []ruleJob, limit int) error {
	for i := range jobs {
		j := &jobs[i]
		if limit > 0 && j.lineNo >= limit {
			break
		}
		if j.err != nil {
			return j.err
		}
		if cap(j.chain.Rules) == 0 {
			j.chain.Rules = p.ruleList(runLen(j.chain, jobs[i:]))
		}
		if j.rule != nil {
			j.chain.AddRule(j.rule)
		}
		for _, r := range j.rules {
			j.chain.AddRule(r)
		}
	}
	return nil
}

// runLen counts the rules of the jobs for c at the start of jobs (a dump
// lists a chain's rules together).
func runLen(c *nf.Chain, jobs []ruleJob) int {
	n := 0
	for k := range jobs {
		if jobs[k].chain != c {
			break
		}
		n += len(jobs[k].rules)
		if jobs[k].rule != nil {
			n++
		}
	}
	return n
}

// ruleList returns an empty rule list with room for n rules, cut from a
// shared chunk (110,000 chains of a few rules would otherwise each grow
// their list several times).
func (p *saveParser) ruleList(n int) []*nf.Rule {
	if n > chunkLen {
		return make([]*nf.Rule, 0, n)
	}
	if len(p.lists)+n > cap(p.lists) {
		p.lists = make([]*nf.Rule, 0, 8*chunkLen)
	}
	at := len(p.lists)
	p.lists = p.lists[:at+n]
	return p.lists[at : at : at+n]
}

// parseJobs parses jobs with one worker per CPU.
func (p *saveParser) parseJobs(jobs []ruleJob) {
	n := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	chunk := (len(jobs) + n - 1) / n
	for w := 0; w < n; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(jobs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(jobs []ruleJob) {
			defer wg.Done()
			p.work(jobs)
		}(jobs[lo:hi])
	}
	wg.Wait()
}

// worker is what a parsing goroutine keeps from batch to batch: its
// expression cache, its slabs (so chunks fill up across batches instead of
// one partly used chunk per batch) and its token buffer.
type worker struct {
	cache *exprCache
	slab  exprSlab
	table *nf.Table
	fam   nf.IPFamily
	toks  []token
}

// takeWorker returns an idle worker's state, or a new one.
func (p *saveParser) takeWorker() *worker {
	p.workersMu.Lock()
	defer p.workersMu.Unlock()
	if n := len(p.workers); n > 0 {
		w := p.workers[n-1]
		p.workers = p.workers[:n-1]
		return w
	}
	return &worker{}
}

func (p *saveParser) putWorker(w *worker) {
	p.workersMu.Lock()
	p.workers = append(p.workers, w)
	p.workersMu.Unlock()
}

// work parses a run of jobs with a worker's expression cache and slab.
func (p *saveParser) work(jobs []ruleJob) {
	w := p.takeWorker()
	defer p.putWorker(w)
	for i := range jobs {
		j := &jobs[i]
		if j.fam != w.fam || w.cache == nil {
			// Cached expressions hold addresses of one family.
			w.fam, w.table = j.fam, nil
			w.cache = &exprCache{mods: map[string][]nf.Expr{}, protos: map[string]nf.Expr{}}
		}
		if t := j.chain.Table; t != w.table {
			// Verdicts are shared within a table (Validate resolves them).
			w.table, w.cache.targets = t, map[string]nf.Expr{}
		}
		toks, ok := p.tokens(w, j)
		if !ok {
			continue
		}
		env := ruleEnv{fam: j.fam, file: p.o.File, lineNo: j.lineNo, cache: w.cache, slab: &w.slab}
		rules, err := env.build(toks[0], j.chain.Name, toks[2:], j.ctr, j.line)
		switch {
		case err != nil:
			j.err = err
		case len(rules) == 1:
			j.rule = rules[0] // rules is the slab's scratch list
		default:
			j.rules = rules
		}
	}
}

// tokens trims and tokenizes a job's line into the worker's buffer, with
// columns of the whole line; it sets j.err when the line is not valid.
func (p *saveParser) tokens(w *worker, j *ruleJob) ([]token, bool) {
	raw := j.line
	j.line = strings.TrimRight(raw, "\r \t")
	var err error
	if w.toks, err = tokenizeInto(w.toks[:0], j.line[j.at:]); err != nil {
		// The tokenizer refuses control characters (validText) as it goes:
		// a line is read once.
		if err == errBinary || !validText(j.line) {
			j.err = nf.Errorf(p.o.File, j.lineNo, badByteCol(j.line), raw, "%v", errBinary)
		} else {
			j.err = nf.Errorf(p.o.File, j.lineNo, len(j.line), j.line, "%v", err)
		}
		return nil, false
	}
	for k := range w.toks {
		w.toks[k].col += j.at
		w.toks[k].end += j.at
	}
	return w.toks, true
}
