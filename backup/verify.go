package backup

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// Verify proves that a backup restores: it checks the data file's SHA-256
// against the metadata, then restores it into a scratch database (SQLite:
// a file in the backup directory; PostgreSQL: a database created for the
// purpose on Options.ScratchURL's server and dropped afterwards), runs the
// engine's integrity check (PRAGMA integrity_check; pg_restore and psql
// succeeding in one transaction) and compares every table's row count and
// the schema version with the metadata.
//
// name may be the backup's name or its data or metadata file name. An
// encrypted backup needs the identity in Options.Identities (ErrNoIdentity
// otherwise, after the checksum passed).
func (m *Manager) Verify(ctx context.Context, name string) (Info, error) {
	start := m.cfg.now()
	unlock, err := m.lock.lock(ctx, false)
	if err != nil {
		m.report(OpVerify, EventVerified, start, Info{Name: name}, Info{}, err)
		return Info{}, err
	}
	info, err := m.readInfo(normalizeName(name))
	if err == nil {
		var sc scratch
		if sc, err = m.verifyInto(ctx, info, false); err == nil {
			err = sc.discard()
		}
	} else {
		info = Info{Name: normalizeName(name)}
	}
	unlock()
	if err != nil {
		err = fmt.Errorf("backup: verify %s: %w", info.Name, err)
	}
	m.report(OpVerify, EventVerified, start, info, Info{}, err)
	return info, err
}

// verifyInto checks the checksum, restores the backup into a scratch copy
// and checks the copy against the metadata. The caller discards the copy.
func (m *Manager) verifyInto(ctx context.Context, info Info, forRestore bool) (scratch, error) {
	if info.Engine != m.cfg.db.Engine {
		return nil, fmt.Errorf("%w: the backup is of %s, the database is %s", ErrEngineMismatch, info.Engine, m.cfg.db.Engine)
	}
	sum, size, err := m.hashFile(ctx, m.path(info.File), "checksum "+info.Name)
	if err != nil {
		return nil, err
	}
	if size != info.Size || sum != info.SHA256 {
		return nil, fmt.Errorf("%w: %s has SHA-256 %s (%d bytes), the metadata says %s (%d bytes)", ErrChecksum, info.File, sum, size, info.SHA256, info.Size)
	}
	var sc scratch
	err = m.stream(ctx, info, func(r io.Reader, finish func() error) error {
		s, err := m.drv.load(ctx, r, info.RawSize, forRestore)
		if err != nil {
			return err
		}
		if err := finish(); err != nil {
			s.discard()
			return err
		}
		sc = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	got, err := sc.contents(ctx)
	if err == nil {
		err = compareContents(info, got)
	}
	if err != nil {
		sc.discard()
		return nil, err
	}
	return sc, nil
}

// stream opens the data file of info and hands fn the decrypted,
// decompressed dump. finish, which fn must call once the dump has been
// used and before making it permanent, reads the rest and checks the
// SHA-256 of everything read against the metadata, so a file swapped after
// the first checksum is caught before it counts.
func (m *Manager) stream(ctx context.Context, info Info, fn func(r io.Reader, finish func() error) error) error {
	f, err := os.Open(m.path(info.File))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	read := &countWriter{w: h}
	src := io.TeeReader(ctxReader{ctx: ctx, r: f}, read)
	dec, err := m.cfg.codec.newDecoder(src, info)
	if err != nil {
		return err
	}
	defer dec.Close()
	finish := func() error {
		if _, err := io.Copy(io.Discard, dec); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, src); err != nil {
			return err
		}
		if read.n != info.Size || hexSum(h.Sum(nil)) != info.SHA256 {
			return fmt.Errorf("%w: %s changed while it was being restored", ErrChecksum, info.File)
		}
		return nil
	}
	return fn(dec, finish)
}
