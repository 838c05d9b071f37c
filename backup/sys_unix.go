//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package backup

import (
	"errors"
	"os"
	"syscall"
)

// sameOwner gives path the owner and group of fi's file, when this
// process may (it runs as root); otherwise it leaves them.
func sameOwner(path string, fi os.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		_ = os.Chown(path, int(st.Uid), int(st.Gid))
	}
}

// flock takes an advisory lock on f without waiting. Locks of one open file
// exclude those of every other open of the same file, in this process too.
func flock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, err
	}
}
