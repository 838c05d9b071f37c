// Package commonlist embeds the list of common passwords that package
// password uses by default. See NOTICE.md beside this file for where the
// list comes from, its licences and how it was built.
//
// The list is gzip-compressed UTF-8 text: one lower-cased password per line,
// no duplicates, sorted by byte value, every line ending in "\n".
package commonlist

import (
	"bytes"
	_ "embed" // for go:embed
	"io"
)

// gzipped is the compressed list. It is the package's only variable, set by
// go:embed at link time and never written; Open hands out readers over it.
//
//go:embed passwords.txt.gz
var gzipped []byte

// Open returns a new reader over the gzip-compressed list. Each call returns
// an independent reader, so concurrent callers do not interfere.
func Open() io.Reader { return bytes.NewReader(gzipped) }
