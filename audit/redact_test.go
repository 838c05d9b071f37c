package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

// logOne logs one event with attrs and returns its parsed record.
func logOne(t *testing.T, opts audit.Options, attrs ...slog.Attr) (map[string]any, string) {
	t.Helper()
	l, buf := newBufferLogger(t, opts)
	l.Log(context.Background(), audit.UserUpdated, audit.Success, attrs...)
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 1)
	return recs[0], buf.String()
}

func TestRedactionByKey(t *testing.T) {
	for _, tc := range []struct {
		key    string
		redact bool
	}{
		{"password", true}, {"Password", true}, {"new_password", true}, {"newPassword", true},
		{"password_confirm", true}, {"PASSWORD", true}, {"passwd", true},
		{"token", true}, {"access_token", true}, {"refreshToken", true}, {"X-Auth-Token", true},
		{"authorization", true}, {"Authorization", true}, {"cookie", true}, {"Set-Cookie", true},
		{"secret", true}, {"client_secret", true}, {"api_key", true}, {"apiKey", true}, {"APIKey", true},
		{"code", true}, {"verification_code", true}, {"otp", true}, {"sessionid", true}, {"session_id", true},
		{"csrftoken", true}, {"private_key", true}, {"credentials", true},
		{"email", false}, {"status", false}, {"tokenizer", false}, {"user_id", false},
		{"role", false}, {"campaign", false}, {"signatures", false}, {"passport_no", false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			rec, _ := logOne(t, audit.Options{}, slog.String(tc.key, "v4lue"))
			if tc.key == "user_id" {
				return // hoisted into the header
			}
			if tc.redact {
				assert.Equal(t, audit.Redacted, rec[tc.key])
			} else {
				assert.Equal(t, "v4lue", rec[tc.key])
			}
		})
	}
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Nested   struct {
		APIKey string `json:"api_key"`
		Note   string `json:"note"`
	} `json:"nested"`
}

// loginForm implements slog.LogValuer and, carelessly, logs its password.
type loginForm struct{ email, password string }

func (f loginForm) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", f.email), slog.String("password", f.password))
}

func TestRedactionNested(t *testing.T) {
	const secret = "s3cr3t-value"
	var creds credentials
	creds.Email, creds.Password, creds.Nested.APIKey, creds.Nested.Note = "a@b.c", secret, secret, "fine"
	rec, raw := logOne(t, audit.Options{},
		slog.Group("request",
			slog.String("method", "POST"),
			slog.Group("headers", slog.String("Authorization", "Bearer "+secret), slog.String("Accept", "*/*")),
			slog.Group("", slog.String("cookie", secret)), // inline group
		),
		slog.Any("map", map[string]any{"token": secret, "ok": 1, "deeper": map[string]string{"secret": secret, "x": "y"}}),
		slog.Any("headers", map[string][]string{"Cookie": {secret}, "Accept": {"a"}}),
		slog.Any("struct", creds),
		slog.Any("pointer", &creds),
		slog.Any("form", loginForm{"a@b.c", secret}),
		slog.Any("list", []any{map[string]any{"password": secret}, "plain"}),
		slog.Any("error", errors.New("login failed")),
	)
	assert.NotContains(t, raw, secret)
	assert.Equal(t, map[string]any{
		"method":  "POST",
		"headers": map[string]any{"Authorization": audit.Redacted, "Accept": "*/*"},
		"cookie":  audit.Redacted,
	}, rec["request"])
	assert.Equal(t, map[string]any{"token": audit.Redacted, "ok": 1.0, "deeper": map[string]any{"secret": audit.Redacted, "x": "y"}}, rec["map"])
	assert.Equal(t, map[string]any{"Cookie": audit.Redacted, "Accept": []any{"a"}}, rec["headers"])
	wantCreds := map[string]any{"email": "a@b.c", "password": audit.Redacted, "nested": map[string]any{"api_key": audit.Redacted, "note": "fine"}}
	assert.Equal(t, wantCreds, rec["struct"])
	assert.Equal(t, wantCreds, rec["pointer"])
	assert.Equal(t, map[string]any{"email": "a@b.c", "password": audit.Redacted}, rec["form"])
	assert.Equal(t, []any{map[string]any{"password": audit.Redacted}, "plain"}, rec["list"])
	assert.Equal(t, "login failed", rec["error"])
}

func TestRedactionByValue(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.Zm9vYmFyYmF6cXV4"
	rec, raw := logOne(t, audit.Options{},
		slog.String("presented", jwt),
		slog.String("message", "refresh failed for "+jwt+"."),
		slog.String("header", "Bearer abcdefghijklmnop"),
		slog.String("basic", "basic dXNlcjpwYXNzd29yZA=="),
		slog.String("prose", "eyJ is how base64 JSON starts"),
		slog.String("dotted", "a.b.c"),
	)
	assert.NotContains(t, raw, "Zm9vYmFyYmF6cXV4")
	assert.Equal(t, audit.Redacted, rec["presented"])
	assert.Equal(t, audit.Redacted, rec["message"])
	assert.Equal(t, audit.Redacted, rec["header"])
	assert.Equal(t, audit.Redacted, rec["basic"])
	assert.Equal(t, "eyJ is how base64 JSON starts", rec["prose"])
	assert.Equal(t, "a.b.c", rec["dotted"])
}

func TestRedactKeysAndAllowKeys(t *testing.T) {
	rec, _ := logOne(t, audit.Options{RedactKeys: []string{"national_id"}, AllowKeys: []string{"status_code"}},
		slog.String("national_id", "0012345678"), slog.String("nationalId", "0012345678"),
		slog.Int("status_code", 404), slog.String("code", "493817"))
	assert.Equal(t, audit.Redacted, rec["national_id"])
	assert.Equal(t, audit.Redacted, rec["nationalId"])
	assert.EqualValues(t, 404, rec["status_code"])
	assert.Equal(t, audit.Redacted, rec["code"])
}

func TestRecordBounds(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range 20 {
		next := map[string]any{}
		cur["d"] = next
		cur = next
	}
	wide := map[string]any{}
	for i := range 500 {
		wide[strings.Repeat("k", i%50+1)+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = i
	}
	many := make([]slog.Attr, 0, 200)
	for i := range 200 {
		many = append(many, slog.String("attr"+strings.Repeat("_", i%3)+string(rune('a'+i%26))+strings.Repeat("z", i/26), strings.Repeat("v", 1000)))
	}
	rec, raw := logOne(t, audit.Options{MaxValueBytes: 100},
		append([]slog.Attr{
			slog.String("long", strings.Repeat("é", 200)),
			slog.Any("deep", deep),
			slog.Any("wide", wide),
		}, many...)...)
	assert.True(t, json.Valid([]byte(strings.TrimSpace(raw))))
	assert.Equal(t, strings.Repeat("é", 50)+"…", rec["long"], "cut at 100 bytes on a character boundary")
	assert.Equal(t, true, rec["_truncated"])
	assert.LessOrEqual(t, len(raw), 70<<10, "a record stays near its size bound")
	assert.Contains(t, raw, `"[TOO DEEP]"`)
	assert.LessOrEqual(t, len(rec["wide"].(map[string]any)), 128)
}

func TestRedactionInsideStrings(t *testing.T) {
	rec, raw := logOne(t, audit.Options{},
		slog.String("raw_body", `{"email":"a@b.c","password":"hunter2","nested":[{"otp":"123456"}]}`),
		slog.String("form", "email=a%40b.c&password=hunter2&remember=1"),
		slog.String("raw_headers", "theme=dark; sessionid=abc123xyz; csrftoken=tok456"),
		slog.String("sentence", "a=b is not a form when it has spaces"),
		slog.String("json_without_secrets", `{"b":1, "a":2}`),
	)
	for _, s := range []string{"hunter2", "123456", "abc123xyz", "tok456"} {
		assert.NotContains(t, raw, s)
	}
	assert.Equal(t, `{"email":"a@b.c","nested":[{"otp":"[REDACTED]"}],"password":"[REDACTED]"}`, rec["raw_body"])
	assert.Equal(t, "email=a%40b.c&password=[REDACTED]&remember=1", rec["form"])
	assert.Equal(t, "theme=dark; sessionid=[REDACTED]; csrftoken=[REDACTED]", rec["raw_headers"])
	assert.Equal(t, "a=b is not a form when it has spaces", rec["sentence"])
	assert.Equal(t, `{"a":2,"b":1}`, rec["json_without_secrets"], "embedded JSON is normalized")
}
