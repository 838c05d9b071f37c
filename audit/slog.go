package audit

import (
	"context"
	"log/slog"
	"slices"
)

// SlogHandler returns a slog.Handler that writes through the Logger: the
// same JSON lines, redaction, sinks, chain and delivery guarantees, with
// the record's message in "msg" and the request ID, client address and
// user taken from the context as [Logger.Log] does. Top-level attributes
// named KeyEvent, KeyOutcome, KeyUserID and KeyUserEmail fill those fields.
// Records below Options.Level are dropped.
//
// Use it for the application's own diagnostic logging when those lines
// belong next to the security events; keep a separate Logger (and file)
// when they do not.
func (l *Logger) SlogHandler() slog.Handler {
	return &slogHandler{l: l}
}

// slogHandler is immutable; With* return modified copies.
type slogHandler struct {
	l      *Logger
	pre    []byte   // members written by WithAttrs, each preceded by ',' unless first in its group
	groups []string // every group of WithGroup, opened or not
	opened int      // groups[:opened] are opened in pre
	fixed  header   // event, outcome and user hoisted by WithAttrs
}

func (h *slogHandler) Enabled(_ context.Context, lv slog.Level) bool {
	return lv >= h.l.level.Level()
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(slices.Clip(h.groups), name)
	return &h2
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	rest := attrs
	if len(h.groups) == 0 {
		rest = hoist(&h2.fixed, attrs)
	}
	if !anyWritten(rest) {
		return &h2
	}
	// A leading placeholder byte that is neither '{' nor '[' makes sep put
	// a comma before a first member at the top level.
	e := lineEncoder{b: append([]byte{'x'}, h.pre...), red: h.l.red, maxValue: h.l.maxValue}
	e.redactAll = h.groupsDenied()
	h2.opened = e.openGroups(h.groups, h.opened)
	for _, a := range rest {
		e.attr(a, h2.opened, h2.opened == 0)
	}
	h2.pre = e.b[1:]
	return &h2
}

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	l := h.l
	hd := header{time: r.Time, level: r.Level, msg: r.Message, hasMsg: true}
	if !r.Time.IsZero() {
		hd.time = r.Time.UTC()
	}
	l.contextFields(ctx, &hd)
	hd.event, hd.outcome = h.fixed.event, h.fixed.outcome
	if h.fixed.userID != "" {
		hd.userID = h.fixed.userID
	}
	if h.fixed.userEmail != "" {
		hd.userEmail = h.fixed.userEmail
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if len(h.groups) == 0 {
		attrs = hoist(&hd, attrs)
	}
	rec, e := l.startRecord(&hd)
	start := len(e.b)
	e.b = append(e.b, h.pre...)
	opened := h.opened
	if anyWritten(attrs) {
		e.redactAll = h.groupsDenied()
		opened = e.openGroups(h.groups, h.opened)
		for _, a := range attrs {
			e.attr(a, opened, opened == 0)
		}
		e.redactAll = false
	}
	for range opened {
		e.b = append(e.b, '}')
	}
	end := len(e.b)
	e.finish()
	l.submit(rec, &hd, e.b, start, end)
	return nil
}

// hoist moves top-level attributes that name header fields into h and
// returns the others.
func hoist(h *header, attrs []slog.Attr) []slog.Attr {
	rest := attrs[:0:0]
	for _, a := range attrs {
		switch a.Key {
		case KeyEvent:
			h.event = Event(a.Value.Resolve().String())
		case KeyOutcome:
			h.outcome = Outcome(a.Value.Resolve().String())
		case KeyUserID:
			h.userID = a.Value.Resolve().String()
		case KeyUserEmail:
			h.userEmail = a.Value.Resolve().String()
		default:
			rest = append(rest, a)
		}
	}
	return rest
}

// anyWritten reports whether any of attrs would be written.
func anyWritten(attrs []slog.Attr) bool {
	for _, a := range attrs {
		a.Value = a.Value.Resolve()
		if !ignored(a) {
			if a.Key == "" && a.Value.Kind() == slog.KindGroup && !anyWritten(a.Value.Group()) {
				continue
			}
			return true
		}
	}
	return false
}

// groupsDenied reports whether a group the handler writes into is named by
// the deny-list: then every value inside is redacted.
func (h *slogHandler) groupsDenied() bool {
	for _, g := range h.groups {
		if h.l.red.denied(g) {
			return true
		}
	}
	return false
}

// openGroups writes the opening of groups[from:] and returns len(groups).
func (e *lineEncoder) openGroups(groups []string, from int) int {
	for _, g := range groups[from:] {
		e.sep()
		e.b = appendString(e.b, truncateUTF8(g, maxKeyBytes))
		e.b = append(e.b, ':', '{')
	}
	return len(groups)
}
