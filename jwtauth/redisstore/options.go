package redisstore

import "time"

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "jwtauth:"

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix starts every key the store writes, so that several stores or
	// applications can share one Redis database. In Redis Cluster, a hash
	// tag in the prefix ("{jwtauth}:") would put every key in one slot:
	// don't, the store needs no multi-key atomicity. Zero value:
	// DefaultPrefix, "jwtauth:".
	Prefix string

	// Now is the clock that expiries are measured against: an entry is
	// written with a time to live of expires − Now(), so Redis forgets it
	// when the application's clock reaches expires, whatever the Redis
	// server's clock says. Zero value: time.Now.
	Now func() time.Time
}
