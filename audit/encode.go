package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field names of a record. A record is one JSON object on one line, with
// its fields in this order: time, level, event, outcome, msg, request_id,
// client_ip, user_id, user_email, then the event's own attributes, then,
// in a chained sink, seq, prev and mac. Empty fields are left out, except
// time and level.
//
// An attribute passed to [Logger.Log] under KeyUserID or KeyUserEmail sets
// that field (it overrides Options.User). Any other attribute whose key is
// one of these names is written with a leading '_' ("_seq"), so a record
// never holds a key twice.
const (
	KeyTime      = "time"       // RFC 3339 in UTC with milliseconds: "2026-01-02T15:04:05.123Z"
	KeyLevel     = "level"      // DEBUG, INFO, WARN, ERROR or CRITICAL
	KeyEvent     = "event"      // an Event
	KeyOutcome   = "outcome"    // success or failure
	KeyMessage   = "msg"        // records written through SlogHandler only
	KeyRequestID = "request_id" // see RequestIDFromContext
	KeyClientIP  = "client_ip"  // the resolved client address
	KeyUserID    = "user_id"    // the acting user, when known
	KeyUserEmail = "user_email" // the acting user's email, when known
	KeySeq       = "seq"        // chained sinks: sequence number, from 1
	KeyPrev      = "prev"       // chained sinks: MAC of the previous record
	KeyMAC       = "mac"        // chained sinks: HMAC-SHA-256 of the record
)

// truncatedKey marks a record whose attributes were cut to keep it within
// maxRecordBytes, maxDepth and maxElems.
const truncatedKey = "_truncated"

// Bounds on what one record may hold, so that attacker-influenced values
// (a huge header, a deeply nested map) cannot blow up a log line.
const (
	// DefaultMaxValueBytes is the longest string value a record keeps when
	// Options.MaxValueBytes is zero; longer values are cut and end in "…".
	DefaultMaxValueBytes = 2048
	maxRecordBytes       = 64 << 10 // attributes stop once a line is this long
	maxDepth             = 8        // nesting of groups, maps and slices
	maxElems             = 128      // members of one group, map or slice
	maxKeyBytes          = 128
	maxStackBytes        = 32 << 10 // the stack of a panic record
)

// isReservedKey reports whether key names a field the record header or the
// chain writes.
func isReservedKey(key string) bool {
	switch key {
	case KeyTime, KeyLevel, KeyEvent, KeyOutcome, KeyMessage, KeyRequestID, KeyClientIP,
		KeyUserID, KeyUserEmail, KeySeq, KeyPrev, KeyMAC, truncatedKey:
		return true
	}
	return false
}

// header holds the fixed fields of a record.
type header struct {
	time      time.Time
	level     slog.Level
	event     Event
	outcome   Outcome
	msg       string
	hasMsg    bool
	requestID string
	clientIP  netip.Addr
	userID    string
	userEmail string
}

// lineEncoder appends one record to b. Its zero value is not usable: set
// red and maxValue.
type lineEncoder struct {
	b         []byte
	red       *redactor
	maxValue  int
	truncated bool
	redactAll bool // every value written is Redacted (inside a denied group)
}

func (e *lineEncoder) header(h *header) {
	b := append(e.b, '{')
	if !h.time.IsZero() { // only a slog.Handler caller can leave it zero
		b = append(b, `"time":`...)
		b = appendTime(b, h.time)
		b = append(b, ',')
	}
	b = append(b, `"level":"`...)
	b = append(b, LevelName(h.level)...)
	b = append(b, '"')
	e.b = b
	if h.event != "" {
		e.field(KeyEvent, string(h.event))
	}
	if h.outcome != "" {
		e.field(KeyOutcome, string(h.outcome))
	}
	if h.hasMsg {
		e.b = append(e.b, `,"msg":`...)
		e.str(h.msg)
	}
	if h.requestID != "" {
		e.field(KeyRequestID, h.requestID)
	}
	if h.clientIP.IsValid() {
		e.b = append(e.b, `,"client_ip":"`...)
		e.b = h.clientIP.AppendTo(e.b)
		e.b = append(e.b, '"')
	}
	if h.userID != "" {
		e.field(KeyUserID, h.userID)
	}
	if h.userEmail != "" {
		e.field(KeyUserEmail, h.userEmail)
	}
}

// field appends ,"key":"value" for a key that needs no escaping; the value
// goes through str (truncation, credential scan).
func (e *lineEncoder) field(key, value string) {
	e.b = append(e.b, ',', '"')
	e.b = append(e.b, key...)
	e.b = append(e.b, '"', ':')
	e.str(value)
}

// finish closes the record, marking it if attributes were cut.
func (e *lineEncoder) finish() {
	if e.truncated {
		e.b = append(e.b, `,"`+truncatedKey+`":true`...)
	}
	e.b = append(e.b, '}')
}

// sep writes the comma before a member or element unless it is the first.
func (e *lineEncoder) sep() {
	if c := e.b[len(e.b)-1]; c != '{' && c != '[' {
		e.b = append(e.b, ',')
	}
}

// full reports whether the line has reached its size bound; it marks the
// record truncated if so.
func (e *lineEncoder) full() bool {
	if len(e.b) >= maxRecordBytes {
		e.truncated = true
		return true
	}
	return false
}

// ignored reports whether slog says a must not be written: a zero Attr, or
// an empty group.
func ignored(a slog.Attr) bool {
	if a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil {
		return true
	}
	if a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0 {
		return true
	}
	return false
}

// attr appends one attribute as a member of the current object. top says
// whether it is a member of the record itself (where reserved keys are
// renamed).
func (e *lineEncoder) attr(a slog.Attr, depth int, top bool) {
	a.Value = a.Value.Resolve()
	if ignored(a) || e.full() {
		return
	}
	if a.Key == "" && a.Value.Kind() == slog.KindGroup {
		for _, m := range a.Value.Group() { // inline group
			e.attr(m, depth, top)
		}
		return
	}
	e.sep()
	if top && isReservedKey(a.Key) {
		e.b = append(e.b, '"', '_')
		e.b = appendEscaped(e.b, truncateUTF8(a.Key, maxKeyBytes))
		e.b = append(e.b, '"')
	} else {
		e.b = appendString(e.b, truncateUTF8(a.Key, maxKeyBytes))
	}
	e.b = append(e.b, ':')
	if e.redactAll || e.red.denied(a.Key) {
		e.b = appendString(e.b, Redacted)
		return
	}
	e.value(a.Value, depth)
}

func (e *lineEncoder) value(v slog.Value, depth int) {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		e.str(v.String())
	case slog.KindInt64:
		e.b = strconv.AppendInt(e.b, v.Int64(), 10)
	case slog.KindUint64:
		e.b = strconv.AppendUint(e.b, v.Uint64(), 10)
	case slog.KindFloat64:
		e.float(v.Float64())
	case slog.KindBool:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case slog.KindDuration:
		e.b = strconv.AppendInt(e.b, int64(v.Duration()), 10)
	case slog.KindTime:
		e.b = appendTime(e.b, v.Time())
	case slog.KindGroup:
		if depth >= maxDepth {
			e.tooDeep()
			return
		}
		e.b = append(e.b, '{')
		for i, m := range v.Group() {
			if i == maxElems {
				e.truncated = true
				break
			}
			e.attr(m, depth+1, false)
		}
		e.b = append(e.b, '}')
	case slog.KindAny:
		e.any(v.Any(), depth)
	default: // a LogValuer that kept returning LogValuers
		e.str(fmt.Sprintf("!unresolved %v", v.Kind()))
	}
}

func (e *lineEncoder) tooDeep() {
	e.truncated = true
	e.b = append(e.b, `"[TOO DEEP]"`...)
}

// str appends a string value: Redacted if it looks like a credential;
// with denied keys redacted if it holds a JSON document or form-encoded
// pairs (a raw request body, a Cookie header); escaped and cut to maxValue
// bytes.
func (e *lineEncoder) str(s string) {
	if e.redactAll || looksSecret(s) {
		e.b = appendString(e.b, Redacted)
		return
	}
	if r, ok := e.redactEmbedded(s); ok {
		s = r
	}
	if len(s) > e.maxValue {
		e.b = append(e.b, '"')
		e.b = appendEscaped(e.b, truncateUTF8(s, e.maxValue))
		e.b = append(e.b, "…\""...)
		return
	}
	e.b = appendString(e.b, s)
}

func (e *lineEncoder) float(f float64) {
	switch {
	case f != f:
		e.b = append(e.b, `"NaN"`...)
	case f > 1.7976931348623157e308:
		e.b = append(e.b, `"+Inf"`...)
	case f < -1.7976931348623157e308:
		e.b = append(e.b, `"-Inf"`...)
	default:
		e.b = strconv.AppendFloat(e.b, f, 'g', -1, 64)
	}
}

// any appends a KindAny value. Maps and slices are walked so that their
// keys are redacted too; other values (structs, custom types) are marshaled
// with encoding/json, decoded and walked the same way. A panic in a
// value's Error or MarshalJSON method is written as text, not propagated.
func (e *lineEncoder) any(x any, depth int) {
	mark := len(e.b)
	defer func() {
		if p := recover(); p != nil {
			e.b = e.b[:mark]
			e.str(fmt.Sprintf("!PANIC while logging a %T: %v", x, p))
		}
	}()
	switch t := x.(type) {
	case nil:
		e.b = append(e.b, "null"...)
	case error:
		e.str(t.Error())
	case string:
		e.str(t)
	case map[string]string:
		e.jsonValue(anyMap(t), depth)
	case map[string]any:
		e.jsonValue(t, depth)
	case []string:
		e.jsonValue(anySlice(t), depth)
	case []any:
		e.jsonValue(t, depth)
	default:
		raw, err := json.Marshal(t)
		if err != nil {
			e.str("!ERROR " + err.Error())
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			e.str("!ERROR " + err.Error())
			return
		}
		e.jsonValue(v, depth)
	}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// jsonValue appends a value of the shapes encoding/json decodes into (and
// maps and slices of any), redacting denied keys. Map keys are sorted.
func (e *lineEncoder) jsonValue(x any, depth int) {
	switch t := x.(type) {
	case map[string]any:
		if depth >= maxDepth {
			e.tooDeep()
			return
		}
		e.b = append(e.b, '{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i == maxElems || e.full() {
				e.truncated = true
				break
			}
			e.sep()
			e.b = appendString(e.b, truncateUTF8(k, maxKeyBytes))
			e.b = append(e.b, ':')
			if e.redactAll || e.red.denied(k) {
				e.b = appendString(e.b, Redacted)
				continue
			}
			e.jsonValue(t[k], depth+1)
		}
		e.b = append(e.b, '}')
	case []any:
		if depth >= maxDepth {
			e.tooDeep()
			return
		}
		e.b = append(e.b, '[')
		for i, v := range t {
			if i == maxElems || e.full() {
				e.truncated = true
				break
			}
			e.sep()
			e.jsonValue(v, depth+1)
		}
		e.b = append(e.b, ']')
	case string:
		e.str(t)
	case json.Number:
		e.b = append(e.b, t...)
	case bool:
		e.b = strconv.AppendBool(e.b, t)
	case float64:
		e.float(t)
	case nil:
		e.b = append(e.b, "null"...)
	default: // map[string]string and the like nested in a map[string]any
		e.any(t, depth)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the body of a JSON string holding s. Invalid UTF-8
// and NUL become U+FFFD (PostgreSQL's jsonb and text refuse NUL); other
// control characters, U+2028 and U+2029 are escaped, so a value can never
// end the line or the string it is in.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case 0:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendTime appends t as a JSON string in RFC 3339 form, in UTC, with
// milliseconds: "2006-01-02T15:04:05.000Z".
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		return append(b, '"')
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, '"')
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, ms, 3)
	return append(b, 'Z', '"')
}

// appendDigits appends the n low decimal digits of v, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var buf [4]byte
	for i := n - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:n]...)
}

// maxEmbeddedBytes bounds the string values parsed for embedded documents.
const maxEmbeddedBytes = 64 << 10

// redactEmbedded returns s with the values of denied keys redacted when s
// is a JSON object or array, or form-encoded / cookie-style pairs
// ("code=1&email=a", "a=1; csrftoken=x"); ok is false when s is neither or
// has nothing to redact.
func (e *lineEncoder) redactEmbedded(s string) (string, bool) {
	if len(s) < 3 || len(s) > maxEmbeddedBytes {
		return "", false
	}
	if c := s[0]; c == '{' || c == '[' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		t := strings.TrimSpace(s)
		if t == "" || t[0] != '{' && t[0] != '[' {
			return "", false
		}
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil || dec.More() {
			return "", false
		}
		sub := lineEncoder{red: e.red, maxValue: e.maxValue}
		sub.jsonValue(v, 1)
		return string(sub.b), true
	}
	if strings.IndexByte(s, '=') < 0 {
		return "", false
	}
	return e.redactPairs(s)
}

// redactPairs redacts the values of denied keys in "k=v&k=v" or
// "k=v; k=v" text. Keys must be URL-safe tokens, or s is left alone.
func (e *lineEncoder) redactPairs(s string) (string, bool) {
	var b strings.Builder
	changed := false
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "&;")
		pair, sep := rest, ""
		if i >= 0 {
			pair, sep, rest = rest[:i], rest[i:i+1], rest[i+1:]
		} else {
			rest = ""
		}
		lead := len(pair) - len(strings.TrimLeft(pair, " "))
		key, _, hasValue := strings.Cut(pair[lead:], "=")
		if !isFormKey(key) || !hasValue && pair[lead:] != "" {
			return "", false
		}
		b.WriteString(pair[:lead])
		if hasValue {
			if k, err := url.QueryUnescape(key); err == nil && e.red.denied(k) {
				b.WriteString(key + "=" + Redacted)
				changed = true
			} else {
				b.WriteString(pair[lead:])
			}
		}
		b.WriteString(sep)
	}
	return b.String(), changed
}

// isFormKey reports whether k is a plausible form or cookie key.
func isFormKey(k string) bool {
	if k == "" || len(k) > maxKeyBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-' || c == '.' || c == '%' || c == '+' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}
