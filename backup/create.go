package backup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
)

// Create takes a backup of the live database, consistent to one instant
// while the application keeps writing, and returns its metadata.
//
// The data file and then the metadata file are written under temporary
// names, fsynced, renamed into place and the directory fsynced; a crash at
// any point leaves nothing that lists or verifies as good, and what it
// leaves is removed later. A failed Create removes its files itself.
func (m *Manager) Create(ctx context.Context) (Info, error) {
	return m.createLocking(ctx, ReasonManual)
}

func (m *Manager) createLocking(ctx context.Context, reason string) (Info, error) {
	start := m.cfg.now()
	unlock, err := m.lock.lock(ctx, true)
	if err != nil {
		m.report(OpCreate, EventCreated, start, Info{}, Info{}, err)
		return Info{}, err
	}
	info, err := m.create(ctx, reason)
	unlock()
	_, _ = m.scan()
	m.report(OpCreate, EventCreated, start, info, Info{}, err)
	if err != nil {
		return Info{}, err
	}
	return info, nil
}

// create writes one backup. The caller holds the exclusive lock. On error
// the returned Info holds what was known (its Name).
func (m *Manager) create(ctx context.Context, reason string) (info Info, err error) {
	c := m.cfg
	now := c.now().UTC()
	info = Info{
		Format:      MetadataFormat,
		Name:        m.newName(now),
		CreatedAt:   now,
		Reason:      reason,
		Engine:      c.db.Engine,
		Database:    c.db.String(),
		Compression: c.codec.compression,
		Recipients:  slices.Clone(c.codec.fingerprints),
		AppVersion:  c.appVer,
	}
	info.File = dataFile(info.Name, info.Engine, info.Compression, info.Encrypted())
	tmpData := m.path(tmpPrefix + info.File)
	tmpMeta := m.path(tmpPrefix + metaFile(info.Name))
	var dataPlaced, metaPlaced bool
	defer func() {
		if err == nil {
			return
		}
		// Undo newest first: once the metadata is gone the backup is no
		// longer good, whatever happens to the rest.
		var errs []error
		if metaPlaced {
			errs = append(errs, removeIfExists(m.path(metaFile(info.Name))))
		}
		errs = append(errs, removeIfExists(tmpMeta))
		if dataPlaced {
			errs = append(errs, removeIfExists(m.path(info.File)))
		}
		errs = append(errs, removeIfExists(tmpData), syncDir(c.dir))
		if cerr := errors.Join(errs...); cerr != nil {
			c.log.Warn("backup: could not remove the files of a failed backup; the next Manager will", "backup", info.Name, "err", cerr)
		}
		info = Info{Name: info.Name, CreatedAt: info.CreatedAt, Reason: reason, Engine: info.Engine}
		err = fmt.Errorf("backup: create %s: %w", info.Name, err)
	}()

	w, err := m.writeData(ctx, tmpData, info.Name)
	if err != nil {
		return info, err
	}
	if err := c.step("data-synced"); err != nil {
		return info, err
	}
	if err := os.Rename(tmpData, m.path(info.File)); err != nil {
		return info, err
	}
	dataPlaced = true
	if err := c.step("data-renamed"); err != nil {
		return info, err
	}
	if err := syncDir(c.dir); err != nil {
		return info, err
	}
	if err := c.step("data-dir-synced"); err != nil {
		return info, err
	}

	info.Size, info.SHA256, info.RawSize = w.size, w.sum, w.raw
	info.SchemaVersion, info.Tables = w.contents.schemaVersion, w.contents.tables
	if err := info.validate(); err != nil {
		return info, err
	}
	meta, err := info.marshal()
	if err != nil {
		return info, err
	}
	if err := m.writeMeta(tmpMeta, meta); err != nil {
		return info, err
	}
	if err := os.Rename(tmpMeta, m.path(metaFile(info.Name))); err != nil {
		return info, err
	}
	metaPlaced = true
	if err := c.step("meta-renamed"); err != nil {
		return info, err
	}
	if err := syncDir(c.dir); err != nil {
		return info, err
	}
	if err := c.step("meta-dir-synced"); err != nil {
		return info, err
	}
	return info, nil
}

// written describes a data file once written and fsynced.
type written struct {
	size, raw int64
	sum       string
	contents  contents
}

// writeData dumps the database through the codec into a new file at path,
// and fsyncs it.
func (m *Manager) writeData(ctx context.Context, path, name string) (written, error) {
	if fd, ok := m.drv.(fileDumper); ok && m.cfg.codec.identity() {
		// Nothing to transform: let the driver write the file itself.
		cont, err := fd.dumpFile(ctx, path)
		if err != nil {
			return written{}, err
		}
		if err := m.cfg.step("data-written"); err != nil {
			return written{}, err
		}
		sum, size, err := m.hashFile(ctx, path, "checksum "+name)
		if err != nil {
			return written{}, err
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			err = syncClose(f)
		}
		return written{size: size, raw: size, sum: sum, contents: cont}, err
	}

	f, err := createExclusive(path)
	if err != nil {
		return written{}, err
	}
	defer f.Close() // after syncClose, a harmless second close
	out := &hashWriter{w: f, h: sha256.New(), first: func() error { return m.cfg.step("data-partial") }}
	enc, err := m.cfg.codec.newEncoder(out)
	if err != nil {
		return written{}, err
	}
	raw := &countWriter{w: enc}
	cont, err := m.drv.dump(ctx, raw, path)
	if cerr := enc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return written{}, err
	}
	if err := m.cfg.step("data-written"); err != nil {
		return written{}, err
	}
	if err := syncClose(f); err != nil {
		return written{}, err
	}
	return written{size: out.n, raw: raw.n, sum: hexSum(out.h.Sum(nil)), contents: cont}, nil
}

// writeMeta writes the metadata to a new file at path and fsyncs it.
func (m *Manager) writeMeta(path string, meta []byte) error {
	f, err := createExclusive(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(meta); err != nil {
		f.Close()
		return err
	}
	if err := m.cfg.step("meta-written"); err != nil {
		f.Close()
		return err
	}
	if err := syncClose(f); err != nil {
		return err
	}
	return m.cfg.step("meta-synced")
}

// hashFile returns the hex SHA-256 and size of the file at path.
func (m *Manager) hashFile(ctx context.Context, path, phase string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	var total int64 = -1
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	tr := m.cfg.progress.start(phase, total)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, tr), ctxReader{ctx: ctx, r: f})
	tr.done(err)
	if err != nil {
		return "", 0, err
	}
	return hexSum(h.Sum(nil)), n, nil
}

// hashWriter hashes and counts what it writes through; first runs before
// the first write (a test hook: a crash with a partial data file).
type hashWriter struct {
	w     io.Writer
	h     hash.Hash
	n     int64
	first func() error
}

func (w *hashWriter) Write(p []byte) (int, error) {
	if w.first != nil && len(p) > 0 {
		first := w.first
		w.first = nil
		n, err := w.w.Write(p[:len(p)/2])
		w.h.Write(p[:n])
		w.n += int64(n)
		if err != nil {
			return n, err
		}
		if err := first(); err != nil {
			return n, err
		}
		m, err := w.Write(p[n:])
		return n + m, err
	}
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// countWriter counts what it writes through.
type countWriter struct {
	w io.Writer
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// ctxReader fails reads once ctx is done, so long copies stop on cancel.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, context.Cause(r.ctx)
	}
	return r.r.Read(p)
}
