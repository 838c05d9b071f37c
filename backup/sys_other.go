//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package backup

import "os"

// sameOwner does nothing where file ownership is not Unix's.
func sameOwner(string, os.FileInfo) {}

// flock is a no-op on systems without flock(2): there, nothing keeps two
// operations on one backup directory apart, so run one at a time.
func flock(*os.File, bool) (bool, error) { return true, nil }
