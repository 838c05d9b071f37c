-- +goose Up
-- Times are integer Unix microseconds (UTC) in both engines, so comparisons and
-- ordering behave the same on PostgreSQL and SQLite.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         VARCHAR(254) NOT NULL,
    password      VARCHAR(512) NOT NULL,
    role          VARCHAR(32)  NOT NULL DEFAULT 'simple_user',
    unit          VARCHAR(64),
    faculty       VARCHAR(64)  NOT NULL DEFAULT 'نامشخص',
    dormitory     VARCHAR(64)  NOT NULL DEFAULT 'خوابگاهی نیستم',
    is_active     INTEGER      NOT NULL DEFAULT 1,
    created_us    BIGINT       NOT NULL,
    last_login_us BIGINT
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- One live code per address and purpose ('register' or 'reset'); a new code
-- replaces the old one. Only an HMAC of the code is stored.
CREATE TABLE verification_codes (
    email      VARCHAR(254) NOT NULL,
    purpose    VARCHAR(16)  NOT NULL,
    code_hash  VARCHAR(64)  NOT NULL,
    attempts   INTEGER      NOT NULL DEFAULT 0,
    created_us BIGINT       NOT NULL,
    expires_us BIGINT       NOT NULL,
    PRIMARY KEY (email, purpose)
);

-- Addresses proven by a consumed code, valid for registration until expires_us.
CREATE TABLE verified_emails (
    email      VARCHAR(254) PRIMARY KEY,
    expires_us BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        VARCHAR(255) NOT NULL,
    description  TEXT         NOT NULL,
    excerpt      VARCHAR(500) NOT NULL DEFAULT '',
    tags         TEXT         NOT NULL DEFAULT '[]',
    image_url    VARCHAR(2048) NOT NULL DEFAULT '',
    slug         VARCHAR(300) NOT NULL,
    category     VARCHAR(64)  NOT NULL,
    deadline_us  BIGINT       NOT NULL,
    is_anonymous VARCHAR(16)  NOT NULL DEFAULT 'public' CHECK (is_anonymous IN ('public', 'anonymous')),
    status       VARCHAR(16)  NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'closed')),
    author_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_email VARCHAR(254),
    created_us   BIGINT       NOT NULL,
    updated_us   BIGINT       NOT NULL
);
CREATE UNIQUE INDEX campaigns_slug_key ON campaigns (slug);
CREATE INDEX campaigns_status_idx ON campaigns (status, id);

CREATE TABLE signatures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_email   VARCHAR(254) NOT NULL,
    signed_us    BIGINT NOT NULL,
    is_anonymous VARCHAR(16) NOT NULL DEFAULT 'public' CHECK (is_anonymous IN ('public', 'anonymous')),
    CONSTRAINT signatures_one_per_user UNIQUE (campaign_id, user_id)
);
CREATE INDEX signatures_user_idx ON signatures (user_id, id);

-- +goose Down
DROP TABLE signatures;
DROP TABLE campaigns;
DROP TABLE verified_emails;
DROP TABLE verification_codes;
DROP TABLE users;
