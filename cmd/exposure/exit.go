package main

import "fmt"

// Exit codes, the contract scripts and CI pipelines depend on.
const (
	// ExitOK: the command ran and found nothing it was asked to fail on.
	ExitOK = 0
	// ExitFinding: a finding that --fail-on or --exit-code asked to fail on.
	ExitFinding = 1
	// ExitBadInput: bad input, bad usage, or an error that stopped the command.
	ExitBadInput = 2
)

// exitError carries an exit code through cobra's error return. A nil err
// means "exit with code, print nothing" (findings were already rendered).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad usage or input (exit 2).
func usageError(err error) error { return &exitError{code: ExitBadInput, err: err} }

// findingExit asks for exit code 1 without printing anything more.
func findingExit() error { return &exitError{code: ExitFinding} }
