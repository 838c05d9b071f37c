package redisstore

import "errors"

// Errors returned by New and Store.Take, wrapped with details; test for them
// with [errors.Is].
var (
	// ErrNilClient is returned by New when client is nil.
	ErrNilClient = errors.New("redisstore: nil client")
	// ErrInvalidOptions is wrapped by every error New returns for a bad
	// Options field.
	ErrInvalidOptions = errors.New("redisstore: invalid options")
	// ErrMalformed is returned by Take and the lockout methods when the key
	// holds a value the store did not write (another program shares the
	// prefix). The store then neither allows the request nor overwrites the
	// value.
	ErrMalformed = errors.New("redisstore: malformed value")
	// ErrTimeRange is returned by Take and the lockout methods for a time
	// the store's key layout cannot represent: before 1970 (a broken clock)
	// or, for locks, after 2262.
	ErrTimeRange = errors.New("redisstore: time out of range")
)
