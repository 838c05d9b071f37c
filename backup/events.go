package backup

import "time"

// EventKind names what an [Event] reports. The audit package has an event
// for each (backup_created, backup_deleted, ...); OnEvent maps one to the
// other.
type EventKind string

// The event kinds.
const (
	// EventCreated: a backup was written and is good.
	EventCreated EventKind = "backup.created"
	// EventVerified: Verify (alone, or as the first step of Restore) passed.
	EventVerified EventKind = "backup.verified"
	// EventRestored: the live database was replaced by a backup.
	EventRestored EventKind = "backup.restored"
	// EventDeleted: Cleanup removed a backup.
	EventDeleted EventKind = "backup.deleted"
	// EventFailed: an operation failed; Op says which, Err why.
	EventFailed EventKind = "backup.failed"
)

// Op names an operation of a [Manager] in events.
type Op string

// The operations.
const (
	// OpCreate is Create, a scheduled backup, or Restore's safety backup.
	OpCreate Op = "create"
	// OpVerify is Verify, or the verification that starts Restore.
	OpVerify Op = "verify"
	// OpRestore is Restore.
	OpRestore Op = "restore"
	// OpCleanup is Cleanup, on its own or after a scheduled backup.
	OpCleanup Op = "cleanup"
)

// Event reports one outcome to Options.OnEvent.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Op is the operation that produced the event.
	Op Op
	// Time is when the operation ended.
	Time time.Time
	// Duration is how long it took.
	Duration time.Duration
	// Backup is the backup concerned; for a failed Create it holds only what
	// was known (often just the Name), and it is zero when nothing was.
	Backup Info
	// SafetyBackup is, for EventRestored, the backup Restore took of the
	// database it replaced.
	SafetyBackup Info
	// Err is the failure, for EventFailed.
	Err error
}

// Health sums up the state of backups for monitoring (perf, /metrics,
// alerts): is there a recent good backup, and did the last attempt fail?
// It comes from the Manager's memory, refreshed by each operation, so
// reading it costs no I/O.
type Health struct {
	// Count is the number of good backups.
	Count int
	// TotalSize is their total size in bytes.
	TotalSize int64
	// LastGood is the newest good backup; zero Name when there is none.
	LastGood Info
	// LastGoodAge is how long ago LastGood was taken; zero when there is
	// none.
	LastGoodAge time.Duration
	// LastFailure is when an operation of this Manager last failed; zero if
	// none has.
	LastFailure time.Time
	// LastError describes that failure.
	LastError string
	// LastFailedOp is the operation that failed.
	LastFailedOp Op
}
