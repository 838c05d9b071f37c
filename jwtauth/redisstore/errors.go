package redisstore

import "errors"

// Errors returned by the Store, wrapped with details; test for them with
// [errors.Is].
var (
	// ErrNilClient is returned by New when client is nil.
	ErrNilClient = errors.New("redisstore: nil client")
	// ErrMalformed is returned when a key of the store holds a value the
	// store did not write (another program shares the prefix). The store
	// never reads such a value as "not revoked".
	ErrMalformed = errors.New("redisstore: malformed value")
)
