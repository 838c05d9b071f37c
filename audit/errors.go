package audit

import "errors"

// Errors returned by the constructors and by Verify, wrapped with details;
// test for them with errors.Is.
var (
	// ErrNoSinks is returned by New when Options.Sinks is empty.
	ErrNoSinks = errors.New("audit: no sinks")
	// ErrInvalidOptions is wrapped by every other problem New finds in its
	// Options.
	ErrInvalidOptions = errors.New("audit: invalid options")
	// ErrShortKey is returned for a chain or verification key shorter than
	// MinKeyLength bytes.
	ErrShortKey = errors.New("audit: key too short")
	// ErrNotChained is returned by NewChain when the sink already holds
	// records and the last one carries no chain fields (the file was written
	// without a Chain, or by something else).
	ErrNotChained = errors.New("audit: existing records are not chained")
	// ErrKeyMismatch is returned by NewChain when the last record of the
	// sink does not verify under the key: the key changed, or the record
	// was edited.
	ErrKeyMismatch = errors.New("audit: last record does not verify under the key")
	// ErrSinkInUse is returned by New for a Chain that another Logger
	// already uses.
	ErrSinkInUse = errors.New("audit: sink already used by another Logger")
	// ErrPanic is wrapped by the *PanicError that Recover hands to
	// Options.ErrorHandler.
	ErrPanic = errors.New("audit: handler panicked")

	// errChainClosed is returned by Chain.Write after Close.
	errChainClosed = errors.New("audit: chain closed")
)

// PanicError describes a recovered panic. [Logger.Recover] passes one to
// Options.ErrorHandler; its text is for logs, never for a response body.
type PanicError struct {
	// Value is what the handler passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic (runtime/debug.Stack).
	Stack []byte
}

// Error returns a fixed text: the panic value may hold secrets.
func (e *PanicError) Error() string { return "audit: handler panicked" }

// Unwrap returns ErrPanic.
func (e *PanicError) Unwrap() error { return ErrPanic }
