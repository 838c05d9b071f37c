package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/jwtauth"
)

// Sessions (issue 11 §5): every token family a login starts is recorded in
// the sessions table with its creation, last use, pseudonymised client
// address and user agent; GET /api/auth/sessions lists the caller's, DELETE
// /api/auth/sessions/{id} ends one. The table follows revocation through
// SessionStore, whichever route revokes (logout, logout-all, a password
// change or reset, a role change, token reuse, account deletion), so it
// never lists a session whose tokens no longer work.

// Messages of the session routes.
const (
	msgSessionNotFound = "نشست یافت نشد"
	msgSessionEnded    = "نشست با موفقیت پایان یافت"
)

// sessionJSON is one entry of GET /api/auth/sessions.
type sessionJSON struct {
	ID         int64  `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	// IP is the client address as stored: a network ("192.0.2.0/24") in
	// the default truncate mode.
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	// Current marks the session of the token that asked.
	Current bool `json:"current"`
}

func toSessionJSON(s data.Session, currentFamily string) sessionJSON {
	return sessionJSON{
		ID: s.ID, CreatedAt: timeJSON(s.CreatedAt()), LastUsedAt: timeJSON(s.LastUsedAt()), ExpiresAt: timeJSON(s.ExpiresAt()),
		IP: s.IP, UserAgent: s.UserAgent, Current: s.Family == currentFamily,
	}
}

// GET /api/auth/sessions
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	u, c, ok := s.caller(w, r)
	if !ok {
		return
	}
	list, err := s.o.DB.UserSessions(r.Context(), u.ID)
	if err != nil {
		s.internal(w, r, "list sessions", err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, toSessionJSON(x, c.Family))
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "sessions": out, "total": len(out)})
}

// DELETE /api/auth/sessions/{id}: ends one of the caller's sessions (its
// tokens stop working at once, on every replica). Another user's session
// is 404, as an unknown one.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgSessionNotFound)
	if !ok {
		return
	}
	u, c, ok := s.caller(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sess, err := s.o.DB.UserSession(ctx, u.ID, id)
	if errors.Is(err, data.ErrNotFound) {
		fail(w, r, http.StatusNotFound, msgSessionNotFound)
		return
	}
	if err != nil {
		s.internal(w, r, "load session", err)
		return
	}
	if err := s.o.Auth.Revoke(ctx, sess.Family); err != nil {
		s.internal(w, r, "revoke session", err)
		return
	}
	s.event(r, EvSessionEnded, "success", slog.Int64("session_id", sess.ID), slog.String("family", sess.Family),
		slog.Bool("current", sess.Family == c.Family))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msgSessionEnded})
}

// issueSession starts a session for u, who just proved who they are:
// tokens issued (with refreshTTL when not zero, "remember me") and the
// session recorded. ok=false: answered.
func (s *Server) issueSession(w http.ResponseWriter, r *http.Request, u data.User, refreshTTL time.Duration) (jwtauth.Pair, bool) {
	p, err := s.o.Auth.Issue(r.Context(), jwtauth.IssueOptions{Subject: strconv.FormatInt(u.ID, 10), Role: u.Role, RefreshTTL: refreshTTL})
	if err != nil {
		s.internal(w, r, "issue tokens", err)
		return jwtauth.Pair{}, false
	}
	return p, s.startSession(w, r, u.ID, p)
}

// startSession records the session of tokens just issued to userID. A
// session that cannot be recorded could not be listed or ended, so it is
// revoked and the request fails (answered; false).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64, p jwtauth.Pair) bool {
	ctx := r.Context()
	_, err := s.o.DB.CreateSession(ctx, data.Session{
		Family: p.Family, UserID: userID, ExpiresUS: p.RefreshExpiresAt.UnixMicro(),
		IP: s.o.Privacy.SessionIP(clientip.FromRequest(r)), UserAgent: userAgent(r),
	})
	if err != nil {
		if rerr := s.o.Auth.Revoke(context.WithoutCancel(ctx), p.Family); rerr != nil {
			s.o.Logger.ErrorContext(ctx, "api: revoke unrecorded session", "err", rerr)
		}
		s.internal(w, r, "record session", err)
		return false
	}
	return true
}

// touchSession records a refresh of p.Family. A failure is logged, not
// answered: the rotated tokens are valid and the row only lags behind.
func (s *Server) touchSession(r *http.Request, p jwtauth.Pair) {
	err := s.o.DB.TouchSession(r.Context(), p.Family, p.RefreshExpiresAt, s.o.Privacy.SessionIP(clientip.FromRequest(r)), userAgent(r))
	if err != nil {
		s.o.Logger.ErrorContext(r.Context(), "api: record refresh", "err", err)
	}
}

// userAgent is the request's User-Agent as valid UTF-8 (PostgreSQL refuses
// anything else in a text column; invalid bytes are dropped), cut to
// data.MaxUserAgent bytes at a character boundary.
func userAgent(r *http.Request) string {
	ua := strings.ToValidUTF8(r.UserAgent(), "")
	if len(ua) <= data.MaxUserAgent {
		return ua
	}
	ua = ua[:data.MaxUserAgent]
	for len(ua) > 0 && !utf8.ValidString(ua) {
		ua = ua[:len(ua)-1]
	}
	return ua
}

// SessionStore wraps the token store so that the sessions table follows
// revocation: revoking a family deletes its session row, revoking a
// subject's tokens deletes the rows that mark covers. The revocation itself
// happens first, in inner; if the table cannot be updated the error is
// returned (the tokens are revoked all the same, and the caller learns that
// the list may still show the session).
func SessionStore(inner jwtauth.Store, db *data.DB) (jwtauth.Store, error) {
	if inner == nil || db == nil {
		return nil, errors.New("api: SessionStore needs the token store and the database")
	}
	return &sessionStore{Store: inner, db: db}, nil
}

type sessionStore struct {
	jwtauth.Store
	db *data.DB
}

func (s *sessionStore) RevokeFamily(ctx context.Context, fid string, expires time.Time) error {
	if err := s.Store.RevokeFamily(ctx, fid, expires); err != nil {
		return err
	}
	return s.db.EndSession(ctx, fid)
}

func (s *sessionStore) RevokeSubject(ctx context.Context, sub string, before, expires time.Time) error {
	if err := s.Store.RevokeSubject(ctx, sub, before, expires); err != nil {
		return err
	}
	return s.db.EndUserSessions(ctx, sub, before)
}
