package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cancel cause of a context stopped by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return fmt.Sprintf("interrupted by %v", e.sig) }

// exitCode is 130 for SIGINT and 143 for SIGTERM.
func (e signalError) exitCode() int {
	if e.sig == syscall.SIGTERM {
		return 143
	}
	return 130
}

// notifyContext is signal.NotifyContext that remembers which signal came
// (as the context's cause). A second signal exits at once.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cancel(signalError{s})
		case <-ctx.Done():
			return
		}
		s := <-ch
		fmt.Fprintf(os.Stderr, "vpcepctl: error: second %v, exiting at once\n", s)
		os.Exit(signalError{s}.exitCode())
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// interrupted returns the signal that stopped ctx, if any.
func interrupted(ctx context.Context) (signalError, bool) {
	var se signalError
	ok := errors.As(context.Cause(ctx), &se)
	return se, ok
}
