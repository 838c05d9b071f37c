package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/example/internal/data"
)

// Privacy and data rights (issue 11): the caller's data export, account
// deletion by the user or, on request, by a superadmin, and the
// pseudonymisation of user IDs and client addresses in what the server
// keeps. PRIVACY.md at the repository root lists every personal datum.

// Event names of the privacy routes.
const (
	EvDataExported = "data_exported"
	EvUserDeleted  = "user_deleted"
	EvSessionEnded = "session_ended"
)

// Messages of the privacy routes, in the original's Persian style.
const (
	msgWrongPassword   = "رمز عبور اشتباه است."
	msgPasswordNeeded  = "برای حذف حساب، رمز عبور خود را وارد کنید."
	msgAccountDeleted  = "حساب کاربری شما و اطلاعات شخصی‌تان حذف شد."
	msgUserDeleted     = "حساب کاربر و اطلاعات شخصی او حذف شد."
	msgNoSuperadminDel = "حساب مدیر کل را نمی‌توان از این راه حذف کرد."
)

// IP modes: how client addresses are written to the security log and the
// sessions table (SENFI_LOG_IP_MODE).
const (
	// IPFull keeps the address as it is.
	IPFull = "full"
	// IPTruncate keeps the network only: the first 24 bits of an IPv4
	// address, the first 48 of an IPv6 one (the example's default).
	IPTruncate = "truncate"
	// IPHMAC replaces the address by a keyed hash, shaped as an IPv6
	// address in fd00::/8 so that every consumer of the log still reads an
	// address: the same client always gets the same value, and nobody
	// without the key can tell which client it is.
	IPHMAC = "hmac"
)

// IPPseudonymiser maps a client address to what may be stored about it.
type IPPseudonymiser struct {
	mode string
	key  []byte
}

// NewIPPseudonymiser returns the pseudonymiser of mode (IPFull, IPTruncate
// or IPHMAC). key, at least 32 bytes, keys IPHMAC; derive it from the
// server secret for this purpose only.
func NewIPPseudonymiser(mode string, key []byte) (*IPPseudonymiser, error) {
	switch mode {
	case IPFull, IPTruncate:
	case IPHMAC:
		if len(key) < 32 {
			return nil, errors.New("api: the hmac IP mode needs a key of at least 32 bytes")
		}
	default:
		return nil, fmt.Errorf("api: IP mode %q: want full, truncate or hmac", mode)
	}
	return &IPPseudonymiser{mode: mode, key: append([]byte(nil), key...)}, nil
}

// Mode is the pseudonymiser's mode.
func (p *IPPseudonymiser) Mode() string { return p.mode }

// Addr is the address to log in place of a: a itself (full), its network
// address (truncate: 192.0.2.77 → 192.0.2.0) or fd00::/8 plus 120 bits of
// HMAC-SHA256(key, a) (hmac). An invalid address stays invalid (not
// logged). IPv4-mapped IPv6 addresses are treated as IPv4.
func (p *IPPseudonymiser) Addr(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	a = a.Unmap()
	switch p.mode {
	case IPTruncate:
		bits := 48
		if a.Is4() {
			bits = 24
		}
		pfx, _ := a.Prefix(bits)
		return pfx.Addr()
	case IPHMAC:
		m := hmac.New(sha256.New, p.key)
		m.Write(a.AsSlice())
		var b [16]byte
		b[0] = 0xfd
		copy(b[1:], m.Sum(nil))
		return netip.AddrFrom16(b)
	}
	return a.WithZone("")
}

// SessionIP is the form stored in the sessions table and shown to the
// user: like Addr, with the network size in truncate mode
// ("192.0.2.0/24"); "" for an invalid address.
func (p *IPPseudonymiser) SessionIP(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	out := p.Addr(a)
	if p.mode == IPTruncate {
		bits := 48
		if out.Is4() {
			bits = 24
		}
		return netip.PrefixFrom(out, bits).String()
	}
	return out.String()
}

// UserPseudonym returns the function that turns a user ID into the
// pseudonymous ID the security log carries: "u_" and 32 hex digits of
// HMAC-SHA256(key, ID). Without the key nobody can link a log line to an
// account; with it, an operator can compute an account's pseudonym to
// search the log. Once the account is deleted the pseudonym points at
// nothing. key must be at least 32 bytes.
func UserPseudonym(key []byte) (func(id string) string, error) {
	if len(key) < 32 {
		return nil, errors.New("api: the user pseudonym key must be at least 32 bytes")
	}
	key = append([]byte(nil), key...)
	// It runs on every authenticated request (the request log's user), so
	// the keyed hash and its buffers are pooled: one allocation, the result.
	pool := sync.Pool{New: func() any { return &pseudonymState{h: hmac.New(sha256.New, key)} }}
	return func(id string) string {
		if id == "" {
			return ""
		}
		st := pool.Get().(*pseudonymState)
		defer pool.Put(st)
		st.h.Reset()
		st.in = append(append(st.in[:0], "user:"...), id...)
		st.h.Write(st.in)
		sum := st.h.Sum(st.sum[:0])
		st.out[0], st.out[1] = 'u', '_'
		hex.Encode(st.out[2:], sum[:16])
		return string(st.out[:])
	}, nil
}

// pseudonymState is one UserPseudonym computation's keyed hash and buffers.
type pseudonymState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
	out [2 + 32]byte
}

// Privacy is what the privacy routes need from the app: the pseudonymisers
// and the security log to export from. The app passes it as
// Options.Privacy; without it the routes use truncated addresses and
// exports no security-log events.
type Privacy struct {
	// IP pseudonymises client addresses. Required.
	IP *IPPseudonymiser
	// User maps a user ID to its pseudonym in the security log. Zero
	// value: the export has no security-log section.
	User func(id string) string
	// AuditLog is the security log's active file (rotated files next to
	// it are read too). Zero value: no security-log section.
	AuditLog string
	// MaxAuditEvents bounds the security-log events of one export (the
	// newest are kept). Zero value: 1000.
	MaxAuditEvents int
}

// defaultPrivacy applies when Options.Privacy is nil.
var defaultPrivacy = Privacy{IP: &IPPseudonymiser{mode: IPTruncate}}

// SessionIP is p.IP.SessionIP.
func (p *Privacy) SessionIP(a netip.Addr) string { return p.IP.SessionIP(a) }

// privacyRoutes registers the routes of issue 11.
func (s *Server) privacyRoutes() {
	auth, role := s.requireAuth, s.requireRole
	s.Handle("GET /api/user/me/export", s.userLimited("EXPORT", s.export))
	s.Handle("DELETE /api/user/me", s.userLimited("DELETE_ACCOUNT", s.deleteMe))
	s.Handle("DELETE /api/user/{id}", role(RoleSuperadmin)(http.HandlerFunc(s.deleteUser)))
	s.Handle("GET /api/auth/sessions", auth(http.HandlerFunc(s.listSessions)))
	s.Handle("DELETE /api/auth/sessions/{id}", auth(http.HandlerFunc(s.endSession)))
}

// Export notes, part of every export so that it explains itself.
var exportNotes = map[string]string{
	"signatures":   "Every signature you made, with the anonymity you chose. Anonymous signatures are never shown to others with your address.",
	"polls":        "Anonymous polls store only that you took part and when, never your choice: a poll's tally is a count with no link to voters. For polls that are not anonymous your choices are listed.",
	"sessions":     "Your active logins. The address is stored pseudonymised (see ip_mode).",
	"audit_events": "Security-log records in which you are the actor, identified by your pseudonymous ID, newest last; at most the newest max_audit_events.",
}

// GET /api/user/me/export (EXPORT per user): everything stored about the
// caller, and nothing about anyone else.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	u := v.user
	ctx := r.Context()
	campaigns, err := s.o.DB.FindCampaigns(ctx, data.CampaignFilter{AuthorID: u.ID})
	if err != nil {
		s.internal(w, r, "export campaigns", err)
		return
	}
	sigs, err := s.o.DB.UserSignatures(ctx, u.ID, false)
	if err != nil {
		s.internal(w, r, "export signatures", err)
		return
	}
	parts, err := s.o.DB.UserParticipations(ctx, u.ID)
	if err != nil {
		s.internal(w, r, "export participations", err)
		return
	}
	choices, err := s.o.DB.UserPollVotes(ctx, u.ID)
	if err != nil {
		s.internal(w, r, "export votes", err)
		return
	}
	polls, err := s.o.DB.FindPolls(ctx, data.PollFilter{AuthorID: u.ID})
	if err != nil {
		s.internal(w, r, "export polls", err)
		return
	}
	posts, _, err := s.o.DB.FindBlogPosts(ctx, data.BlogFilter{AuthorID: u.ID})
	if err != nil {
		s.internal(w, r, "export posts", err)
		return
	}
	sessions, err := s.o.DB.UserSessions(ctx, u.ID)
	if err != nil {
		s.internal(w, r, "export sessions", err)
		return
	}
	c, _ := claims(r)
	p := s.o.Privacy
	events, truncated, err := p.auditEvents(strconv.FormatInt(u.ID, 10))
	if err != nil {
		s.internal(w, r, "export security log", err)
		return
	}

	profile := map[string]any{
		"id": u.ID, "email": u.Email, "role": u.Role, "unit": toUserJSON(u).Unit, "faculty": u.Faculty,
		"dormitory": u.Dormitory, "council_member_status": u.CouncilStatus, "is_active": u.IsActive,
		"created_at": timeJSON(u.CreatedAt()), "last_login_at": nil,
	}
	if u.LastLoginUS.Valid {
		profile["last_login_at"] = timeJSON(time.UnixMicro(u.LastLoginUS.Int64))
	}
	camps := make([]campaignJSON, 0, len(campaigns))
	for _, x := range campaigns {
		camps = append(camps, v.toJSON(x))
	}
	sigOut := make([]map[string]any, 0, len(sigs))
	for _, x := range sigs {
		sigOut = append(sigOut, map[string]any{"signature_id": x.ID, "campaign_id": x.CampaignID, "campaign_title": x.CampaignTitle,
			"signed_at": timeJSON(x.SignedAt()), "is_anonymous": x.IsAnonymous})
	}
	partOut := make([]map[string]any, 0, len(parts))
	for _, x := range parts {
		e := map[string]any{"poll_id": x.PollID, "poll_title": x.PollTitle, "poll_is_anonymous": x.IsAnonymous,
			"voted_at": timeJSON(time.UnixMicro(x.VotedUS))}
		if !x.IsAnonymous {
			opts := []map[string]any{}
			for _, c := range choices[x.PollID] {
				opts = append(opts, map[string]any{"option_id": c.OptionID, "option_text": c.OptionText})
			}
			e["choices"] = opts
		}
		partOut = append(partOut, e)
	}
	pollOut := make([]map[string]any, 0, len(polls))
	for _, x := range polls {
		pollOut = append(pollOut, map[string]any{"id": x.ID, "title": x.Title, "description": x.Description, "slug": x.Slug,
			"category": x.Category, "status": x.Status, "is_anonymous": x.IsAnonymous, "created_at": timeJSON(time.UnixMicro(x.CreatedUS))})
	}
	postOut := make([]blogJSON, 0, len(posts))
	for _, x := range posts {
		postOut = append(postOut, v.blogJSON(x))
	}
	sessOut := make([]sessionJSON, 0, len(sessions))
	for _, x := range sessions {
		sessOut = append(sessOut, toSessionJSON(x, c.Family))
	}
	body := map[string]any{
		"success":            true,
		"exported_at":        timeJSON(s.o.Now()),
		"profile":            profile,
		"campaigns":          camps,
		"signatures":         sigOut,
		"poll_participation": partOut,
		"polls":              pollOut,
		"blog_posts":         postOut,
		"sessions":           sessOut,
		"ip_mode":            p.IP.Mode(),
		"audit_events":       events,
		"audit_truncated":    truncated,
		"max_audit_events":   p.MaxAuditEvents,
		"notes":              exportNotes,
	}
	s.event(r, EvDataExported, "success", slog.Int("audit_events", len(events)))
	w.Header().Set("Content-Disposition", `attachment; filename="senfi-export.json"`)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

// chainKeys are the fields of a chained record that only prove the chain.
var chainKeys = []string{audit.KeySeq, audit.KeyPrev, audit.KeyMAC}

// auditEvents reads the security-log records whose actor is user id (by
// pseudonym), oldest first, keeping the newest p.MaxAuditEvents.
func (p *Privacy) auditEvents(id string) ([]map[string]any, bool, error) {
	out := []map[string]any{}
	if p.User == nil || p.AuditLog == "" {
		return out, false, nil
	}
	files, err := audit.LogFiles(p.AuditLog)
	if errors.Is(err, os.ErrNotExist) {
		return out, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	needle := []byte(`"` + audit.KeyUserID + `":"` + p.User(id) + `"`)
	truncated := false
	for _, f := range files {
		err := scanLog(f, func(line []byte) {
			if !bytes.Contains(line, needle) {
				return
			}
			var rec map[string]any
			if json.Unmarshal(line, &rec) != nil {
				return
			}
			for _, k := range chainKeys {
				delete(rec, k)
			}
			if len(out) == p.MaxAuditEvents {
				out, truncated = append(out[:0], out[1:]...), true
			}
			out = append(out, rec)
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) { // rotated away meanwhile
			return nil, false, err
		}
	}
	return out, truncated, nil
}

// maxLogLine bounds one record read back from the security log.
const maxLogLine = 1 << 20

// scanLog calls fn with every line of a log file (gzip-compressed if its
// name ends in .gz).
func scanLog(path string, fn func([]byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rd io.Reader = f
	if filepath.Ext(path) == ".gz" {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		rd = zr
	}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil // an oversized line ends the file's scan, not the export
	}
	return sc.Err()
}

// DELETE /api/user/me (DELETE_ACCOUNT per user): {password}; deletes the
// caller's account.
func (s *Server) deleteMe(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if !decode(w, r, &in, true) {
		return
	}
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	if in.Password == "" {
		fail(w, r, http.StatusBadRequest, msgPasswordNeeded, fieldErr("password", "required"))
		return
	}
	ctx := r.Context()
	if _, err := s.o.Hasher.Verify(ctx, u.Password, in.Password); err != nil {
		if ctx.Err() != nil {
			return
		}
		s.event(r, EvUserDeleted, "failure", slog.String("reason", "wrong_password"))
		fail(w, r, http.StatusBadRequest, msgWrongPassword, fieldErr("password", "wrong password"))
		return
	}
	if !s.eraseUser(w, r, u, "self") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msgAccountDeleted})
}

// DELETE /api/user/{id} (superadmin): deletes an account on its owner's
// request. Superadmin accounts are refused (403): remove the role first
// from the database, deliberately.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgUserNotFound)
	if !ok {
		return
	}
	if _, _, ok := s.caller(w, r); !ok {
		return
	}
	u, ok := s.userAt(w, r, id, msgUserNotFound)
	if !ok {
		return
	}
	if u.Role == RoleSuperadmin {
		fail(w, r, http.StatusForbidden, msgNoSuperadminDel)
		return
	}
	if !s.eraseUser(w, r, u, "admin") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msgUserDeleted})
}

// eraseUser revokes every token of u, then deletes the account
// (data.DB.DeleteUser) and records user_deleted; by is "self" or "admin".
// Tokens are revoked first: a failure after it leaves an account that
// cannot be used, never a deleted account whose tokens still work.
func (s *Server) eraseUser(w http.ResponseWriter, r *http.Request, u data.User, by string) bool {
	ctx := r.Context()
	if err := s.o.Auth.RevokeSubject(ctx, strconv.FormatInt(u.ID, 10)); err != nil {
		s.internal(w, r, "revoke sessions", err)
		return false
	}
	d, err := s.o.DB.DeleteUser(ctx, u.ID)
	if errors.Is(err, data.ErrNotFound) {
		fail(w, r, http.StatusNotFound, msgUserNotFound)
		return false
	}
	if err != nil {
		s.internal(w, r, "delete user", err)
		return false
	}
	attrs := []slog.Attr{slog.String("by", by), slog.Int64("signatures_kept", d.Signatures),
		slog.Int64("campaigns_reassigned", d.Campaigns), slog.Int64("polls_reassigned", d.Polls),
		slog.Int64("posts_reassigned", d.BlogPosts)}
	if by == "admin" {
		// The actor is the admin; the deleted account is named by its
		// pseudonym only.
		attrs = append(attrs, slog.String("target_user", s.o.Privacy.userRef(u.ID)))
	} else {
		attrs = append(attrs, slog.Int64(audit.KeyUserID, u.ID))
	}
	s.event(r, EvUserDeleted, "success", attrs...)
	return true
}

// userRef is the pseudonym of user id ("" when no pseudonymiser is set).
func (p *Privacy) userRef(id int64) string {
	if p.User == nil {
		return ""
	}
	return p.User(strconv.FormatInt(id, 10))
}
