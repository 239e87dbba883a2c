package render

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/exposure-audit/exposure/checks"
)

// JUnit schema subset (the Ant/Jenkins dialect CI systems read).
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes one test suite per group and one test case per result, as
// kube-bench's --junit does: FAIL is a failure (message = remediation),
// ERROR an error, WARN and INFO are skipped; the message and evidence go to
// system-out.
func JUnit(w io.Writer, r checks.Report) error {
	var out junitSuites
	idx := map[string]int{}
	for _, res := range r.Results {
		i, ok := idx[res.Group]
		if !ok {
			i = len(out.Suites)
			idx[res.Group] = i
			out.Suites = append(out.Suites, junitSuite{Name: "exposure check " + res.Group})
		}
		s := &out.Suites[i]
		s.Tests++
		c := junitCase{Name: res.ID + " " + res.Title, ClassName: res.Group,
			SystemOut: fmt.Sprintf("%s\nevidence: layer=%s path=%s actual=%q expected=%q", res.Message,
				res.Evidence.Layer, res.Evidence.Path, res.Evidence.Actual, res.Evidence.Expected)}
		switch res.Status {
		case checks.Fail:
			s.Failures++
			c.Failure = &junitMessage{Message: res.Message, Text: res.Remediation}
		case checks.Error:
			s.Errors++
			c.Error = &junitMessage{Message: res.Message}
		case checks.Warn, checks.Info:
			s.Skipped++
			c.Skipped = &junitMessage{Message: string(res.Status) + ": " + res.Message}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
