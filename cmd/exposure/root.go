package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// app carries what every subcommand shares: the standard streams and the
// logger. It replaces package-level globals.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// run builds the command tree, executes it and maps the outcome to the exit
// code contract: 0 ok, 1 a finding the caller asked to fail on, 2 bad input
// or usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0
	}
	var ec *exitError
	if errors.As(err, &ec) && ec.err == nil {
		return ec.code
	}
	fmt.Fprintf(stderr, "exposure: %v\n", err)
	if errors.As(err, &ec) {
		return ec.code
	}
	return ExitBadInput
}

func newRootCmd(a *app) *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:           "exposure",
		Short:         "Which ports of this node the outside world can reach, how, opened by whom, and whether that is allowed",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if verbose {
				a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log progress to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newTraceCmd(a),
		newAuditCmd(a),
		newPortsCmd(a),
		newSnapshotCmd(a),
		newEventsCmd(a),
		newCheckCmd(a),
		newDiffCmd(a),
		newK8sCmd(a),
	)
	return root
}
