package backup

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An encrypted backup can be checksummed by anyone, but verified and
// restored only with its identity; the server that makes it needs only
// the public recipient.
func TestEncryptedBackupNeedsIdentity(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, live liveDB) {
		app := seed(t, live, 100)
		want := snapshot(t, app)
		id, err := GenerateIdentity()
		require.NoError(t, err)
		other, err := GenerateIdentity()
		require.NoError(t, err)
		ctx := ctxT(t)

		server, _ := testManager(t, live, func(o *Options) { o.Recipients = []string{id.Recipient()} })
		info, err := server.Create(ctx)
		require.NoError(t, err)
		assert.True(t, info.Encrypted())
		assert.Equal(t, []string{Fingerprint(id.Recipient())}, info.Recipients)
		assert.True(t, strings.HasSuffix(info.File, ".zst.age"))
		data, err := os.ReadFile(server.path(info.File))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(data), "age-encryption.org/v1\n"))
		assert.NotContains(t, string(data), "u1@example.com")

		// Without the identity, or with another one: ErrNoIdentity, and the
		// live database is untouched.
		_, err = app.Exec(`DELETE FROM signatures`)
		require.NoError(t, err)
		changed := snapshot(t, app)
		require.NoError(t, app.Close())
		for name, ids := range map[string][]Identity{"none": nil, "other": {other}} {
			t.Run(name, func(t *testing.T) {
				m, _ := testManager(t, live, func(o *Options) { o.Dir = server.Dir(); o.Identities = ids })
				_, err := m.Verify(ctx, info.Name)
				require.ErrorIs(t, err, ErrNoIdentity)
				_, err = m.Restore(ctx, info.Name, force)
				require.ErrorIs(t, err, ErrNoIdentity)
			})
		}
		app = live.open(t)
		assert.Equal(t, changed, snapshot(t, app))
		require.NoError(t, app.Close())

		// The checksum does not need the key: tampering is caught first.
		data[len(data)-5] ^= 1
		require.NoError(t, os.WriteFile(server.path(info.File+".bad"), data, 0o600))
		require.NoError(t, os.Rename(server.path(info.File), server.path(info.File+".good")))
		require.NoError(t, os.Rename(server.path(info.File+".bad"), server.path(info.File)))
		_, err = server.Verify(ctx, info.Name)
		require.ErrorIs(t, err, ErrChecksum)
		require.NoError(t, os.Rename(server.path(info.File+".good"), server.path(info.File)))

		// An operator with the identity verifies and restores.
		keyFile := "# created: by the test\n" + other.SecretKey() + "\n\n" + id.SecretKey() + "\n"
		ids, err := ParseIdentities(strings.NewReader(keyFile))
		require.NoError(t, err)
		op, _ := testManager(t, live, func(o *Options) {
			o.Dir = server.Dir()
			o.Identities = ids
			o.Recipients = []string{id.Recipient()}
		})
		_, err = op.Verify(ctx, info.Name)
		require.NoError(t, err)
		_, err = op.Restore(ctx, info.Name, force)
		require.NoError(t, err)
		assert.Equal(t, want, snapshot(t, live.open(t)))
	})
}

// Identities never print or log their secret.
func TestIdentityDoesNotLeak(t *testing.T) {
	id, err := GenerateIdentity()
	require.NoError(t, err)
	secret := id.SecretKey()
	require.True(t, strings.HasPrefix(secret, "AGE-SECRET-KEY-1"))
	opts := Options{Identities: []Identity{id}}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("opts", "id", id, "opts", opts)
	for _, s := range []string{fmt.Sprint(opts), fmt.Sprintf("%+v", opts), fmt.Sprintf("%#v", id), fmt.Sprintf("%v", id), logged.String()} {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, s, secret[len("AGE-SECRET-KEY-1"):])
	}
	parsed, err := ParseIdentity(secret)
	require.NoError(t, err)
	assert.Equal(t, id.Recipient(), parsed.Recipient())

	_, err = ParseIdentity("AGE-SECRET-KEY-1NOTAKEY")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "NOTAKEY")
	_, err = ParseIdentities(strings.NewReader("# only a comment\n"))
	require.Error(t, err)
	_, err = ParseIdentities(strings.NewReader("junk\n"))
	require.Error(t, err)
}
