-- +goose Up
-- Privacy and data rights (issue 11): a table of sessions for
-- GET/DELETE /api/auth/sessions, and signatures that survive the deletion of
-- their signer's account. Times are integer Unix microseconds (UTC).

-- One row per live token family (a login). A row is deleted when its family
-- is revoked (logout, logout-all, ending the session, a password change,
-- account deletion) and swept once expires_us has passed: nothing here
-- outlives the session it describes. ip holds the client address already
-- pseudonymised as SENFI_LOG_IP_MODE says (a /24 or /48 network by default).
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    family       VARCHAR(64)  NOT NULL,
    user_id      BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_us   BIGINT       NOT NULL,
    last_used_us BIGINT       NOT NULL,
    expires_us   BIGINT       NOT NULL,
    ip           VARCHAR(64)  NOT NULL DEFAULT '',
    user_agent   VARCHAR(256) NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_family_key ON sessions (family);
CREATE INDEX sessions_user_idx ON sessions (user_id, id);
CREATE INDEX sessions_expires_idx ON sessions (expires_us);

-- A deleted account's signatures are kept, so that campaign totals do not
-- change, and moved to the neutral "deleted user" account (id 0, created by
-- the first deletion). That account holds many signatures per campaign, so
-- "one signature per user and campaign" now excludes it. SQLite cannot drop
-- a table constraint: the table is rebuilt with the same rows and IDs.
CREATE TABLE signatures_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_email   VARCHAR(254) NOT NULL,
    signed_us    BIGINT NOT NULL,
    is_anonymous VARCHAR(16) NOT NULL DEFAULT 'public' CHECK (is_anonymous IN ('public', 'anonymous'))
);
INSERT INTO signatures_new (id, campaign_id, user_id, user_email, signed_us, is_anonymous)
    SELECT id, campaign_id, user_id, user_email, signed_us, is_anonymous FROM signatures;
DROP TABLE signatures;
ALTER TABLE signatures_new RENAME TO signatures;
CREATE UNIQUE INDEX signatures_one_per_user ON signatures (campaign_id, user_id) WHERE user_id <> 0;
CREATE INDEX signatures_user_idx ON signatures (user_id, id);

-- Likewise for poll participations, so that a poll's voter count does not
-- change either (the deleted account's choices in polls that are not
-- anonymous are deleted: the tallies are counts and keep them).
CREATE TABLE poll_participations_new (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id  BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    voted_us BIGINT NOT NULL
);
INSERT INTO poll_participations_new (id, poll_id, user_id, voted_us)
    SELECT id, poll_id, user_id, voted_us FROM poll_participations;
DROP TABLE poll_participations;
ALTER TABLE poll_participations_new RENAME TO poll_participations;
CREATE UNIQUE INDEX poll_participations_one_per_user ON poll_participations (poll_id, user_id) WHERE user_id <> 0;
CREATE INDEX poll_participations_user_idx ON poll_participations (user_id, id);

-- +goose Down
-- Fails while the neutral account holds two signatures on one campaign (or
-- two participations in one poll): the old constraints cannot describe
-- that state.
CREATE TABLE poll_participations_old (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id  BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    voted_us BIGINT NOT NULL,
    CONSTRAINT poll_participations_one_per_user UNIQUE (poll_id, user_id)
);
INSERT INTO poll_participations_old (id, poll_id, user_id, voted_us)
    SELECT id, poll_id, user_id, voted_us FROM poll_participations;
DROP TABLE poll_participations;
ALTER TABLE poll_participations_old RENAME TO poll_participations;
CREATE INDEX poll_participations_user_idx ON poll_participations (user_id, id);
CREATE TABLE signatures_old (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_email   VARCHAR(254) NOT NULL,
    signed_us    BIGINT NOT NULL,
    is_anonymous VARCHAR(16) NOT NULL DEFAULT 'public' CHECK (is_anonymous IN ('public', 'anonymous')),
    CONSTRAINT signatures_one_per_user UNIQUE (campaign_id, user_id)
);
INSERT INTO signatures_old (id, campaign_id, user_id, user_email, signed_us, is_anonymous)
    SELECT id, campaign_id, user_id, user_email, signed_us, is_anonymous FROM signatures;
DROP TABLE signatures;
ALTER TABLE signatures_old RENAME TO signatures;
CREATE INDEX signatures_user_idx ON signatures (user_id, id);
DROP TABLE sessions;
