package iptables

import (
	"strings"

	nf "github.com/exposure-audit/exposure/netfilter"
)

// Matches whose result depends on state the tool cannot see (quota,
// hashlimit, time, string, ...) become StatefulMatch expressions keyed by
// their module whatever their options, as for iptables-save input. Their
// print forms are only delimited here, and kept as written.

// statefulPrefix marks a listMod read by a stateful recognizer.
const statefulPrefix = "stateful:"

func stateful(mod string) listMod { return listMod{mod: statefulPrefix + mod} }

// statefulExpr builds the expression of a stateful match read back.
func statefulExpr(md listMod) (nf.Expr, bool) {
	key, ok := strings.CutPrefix(md.mod, statefulPrefix)
	if !ok {
		return nil, false
	}
	return &nf.StatefulMatch{Key: key, Text: md.text, Known: true}, true
}

// words consumes n words; false if the text ends first.
func (t *textScan) words(n int) bool {
	for range n {
		if t.word() == "" {
			return false
		}
	}
	return true
}

// quotaRec reads " quota: 1000 bytes" (libxt_quota.c).
func quotaRec(m *matchParser, _ string, _ bool) (listMod, bool) {
	return stateful("quota"), m.t.words(1) && m.t.accept("bytes")
}

// connlimitRec reads " #conn src/32 > 3" (libxt_connlimit.c).
func connlimitRec(m *matchParser, _ string, _ bool) (listMod, bool) {
	return stateful("connlimit"), m.t.words(3)
}

// hashlimitRec reads " limit: up to 5/sec burst 5 mode srcip htable-expire
// 1000" and " limit: above ..." (libxt_hashlimit.c hashlimit_mt_print),
// the "limit:" already consumed.
func hashlimitRec(m *matchParser) (listMod, bool) {
	if m.t.accept("up") && !m.t.accept("to") {
		return listMod{}, false
	}
	if !m.t.words(1) || !m.t.accept("burst") || !m.t.words(1) {
		return listMod{}, false
	}
	valued := map[string]bool{"mode": true, "htable-size": true, "htable-max": true, "htable-gcinterval": true,
		"htable-expire": true, "srcmask": true, "dstmask": true, "rate-interval": true}
	for {
		w := m.t.peek()
		switch {
		case valued[w]:
			m.t.words(2)
		case w == "rate-match":
			m.t.word()
		default:
			return stateful("hashlimit"), true
		}
	}
}

// stringRec reads ` STRING match ! "GET /" ALGO name bm FROM 1 TO 9
// ICASE` (libxt_string.c); the pattern is printed unescaped and runs to
// the last `" ALGO name `.
func stringRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	end := strings.LastIndex(m.t.s[m.t.i:], `" ALGO name `)
	if end < 0 {
		return listMod{}, false
	}
	m.t.i += end + len(`" ALGO name `)
	m.t.word()
	for _, w := range []string{"FROM", "TO"} {
		if m.t.accept(w) {
			m.t.word()
		}
	}
	m.t.accept("ICASE")
	return stateful("string"), true
}

// timeRec reads " TIME from 09:00:00 to 17:00:00 on Mon,Tue starting from
// 2020-01-01 00:00:00 until date 2021-01-01 00:00:00 UTC contiguous"
// (libxt_time.c time_print).
func timeRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	for !neg {
		switch w := m.t.peek(); {
		case w == "from" || w == "to" || w == "on":
			m.t.words(2)
		case w == "starting" || w == "until":
			m.t.words(4)
		case w == "UTC" || w == "contiguous":
			m.t.word()
		default:
			return stateful("time"), true
		}
	}
	return listMod{}, false
}

// u32Rec reads ` u32 ! "0x0>>0x16&0x3c@0xc>>0x1a&0x3f=0x10"`
// (libxt_u32.c).
func u32Rec(m *matchParser, _ string, neg bool) (listMod, bool) {
	m.t.accept("!")
	return stateful("u32"), !neg && strings.HasPrefix(m.t.word(), `"`)
}

// connbytesRec reads " connbytes 10:100 connbytes mode packets connbytes
// direction both" (libxt_connbytes.c).
func connbytesRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	m.t.accept("!")
	if neg || !m.t.words(1) {
		return listMod{}, false
	}
	for m.t.peek() == "connbytes" && (m.t.peek2() == "mode" || m.t.peek2() == "direction") {
		m.t.words(3)
	}
	return stateful("connbytes"), true
}

// cpuRec reads " cpu ! 1" (libxt_cpu.c).
func cpuRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	m.t.accept("!")
	return stateful("cpu"), !neg && m.t.words(1)
}

// devgroupRec reads " src-group ! 0x2 dst-group 0x3/0xf" (libxt_devgroup.c).
func devgroupRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	m.t.accept("!")
	if neg || !m.t.words(1) {
		return listMod{}, false
	}
	if m.t.accept("dst-group") {
		m.t.accept("!")
		m.t.word()
	}
	return stateful("devgroup"), true
}

// ecnRec reads " ECN match !ECE CWR ECT=1" (libxt_ecn.c).
func ecnRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	if neg || !m.t.accept("match") {
		return listMod{}, false
	}
	n := 0
	for {
		w, _ := negArg(m.t.peek())
		if w != "ECE" && w != "CWR" && !strings.HasPrefix(w, "ECT=") {
			return stateful("ecn"), n > 0
		}
		m.t.word()
		n++
	}
}

// tcpmssRec reads " tcpmss match !1:500" (libxt_tcpmss.c).
func tcpmssRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	return stateful("tcpmss"), !neg && m.t.accept("match") && m.t.words(1)
}

// socketRec reads " socket --transparent --nowildcard" (libxt_socket.c,
// which prints the save options).
func socketRec(m *matchParser, _ string, neg bool) (listMod, bool) {
	for strings.HasPrefix(m.t.peek(), "--") {
		m.t.word()
	}
	return stateful("socket"), !neg
}
