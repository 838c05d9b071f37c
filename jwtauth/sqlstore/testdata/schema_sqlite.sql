-- jwtauth/sqlstore schema, dialect sqlite, table prefix jwtauth_.
-- Times are Unix microseconds (_us) or milliseconds (_ms); rows may be deleted once expires_at_ms has passed.

CREATE TABLE IF NOT EXISTS jwtauth_families (
    fid           TEXT    NOT NULL PRIMARY KEY,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS jwtauth_families_expires_at_ms_idx ON jwtauth_families (expires_at_ms);

CREATE TABLE IF NOT EXISTS jwtauth_subjects (
    sub           TEXT    NOT NULL PRIMARY KEY,
    before_us     INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS jwtauth_subjects_expires_at_ms_idx ON jwtauth_subjects (expires_at_ms);

CREATE TABLE IF NOT EXISTS jwtauth_used_tokens (
    jti           TEXT    NOT NULL PRIMARY KEY,
    used_at_us    INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS jwtauth_used_tokens_expires_at_ms_idx ON jwtauth_used_tokens (expires_at_ms);
