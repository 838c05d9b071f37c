-- +goose Up
-- What the frontend's generations B and C added (issue 10): council membership
-- on users, polls, and the blog. Times are integer Unix microseconds (UTC), as
-- in 00001.

-- member: a voting member of the General Council; observer: a member without
-- a vote; none: not a member (the default).
ALTER TABLE users ADD COLUMN council_member_status VARCHAR(16) NOT NULL DEFAULT 'none'
    CHECK (council_member_status IN ('member', 'observer', 'none'));

CREATE TABLE polls (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    title              VARCHAR(255)  NOT NULL,
    description        TEXT          NOT NULL,
    slug               VARCHAR(300)  NOT NULL,
    category           VARCHAR(64)   NOT NULL,
    image_url          VARCHAR(2048) NOT NULL DEFAULT '',
    is_anonymous       INTEGER       NOT NULL DEFAULT 1,
    is_multiple_choice INTEGER       NOT NULL DEFAULT 0,
    -- NULL: a multiple-choice poll allows every option; a single-choice poll one.
    max_choices        INTEGER CHECK (max_choices IS NULL OR max_choices >= 1),
    deadline_us        BIGINT,
    status             VARCHAR(16)   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'closed')),
    author_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_email       VARCHAR(254),
    created_us         BIGINT        NOT NULL,
    updated_us         BIGINT        NOT NULL
);
CREATE UNIQUE INDEX polls_slug_key ON polls (slug);
CREATE INDEX polls_status_idx ON polls (status, id);
CREATE INDEX polls_author_idx ON polls (author_id, id);

-- vote_count is the tally. Anonymous polls keep nothing else about a vote, so
-- no row links a voter to a choice, not even by time or insertion order.
CREATE TABLE poll_options (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id    BIGINT       NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    text       VARCHAR(255) NOT NULL,
    position   INTEGER      NOT NULL,
    vote_count BIGINT       NOT NULL DEFAULT 0 CHECK (vote_count >= 0),
    CONSTRAINT poll_options_poll_key UNIQUE (poll_id, id)
);

-- One participation per user and poll, whatever the concurrency.
CREATE TABLE poll_participations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id  BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    voted_us BIGINT NOT NULL,
    CONSTRAINT poll_participations_one_per_user UNIQUE (poll_id, user_id)
);
CREATE INDEX poll_participations_user_idx ON poll_participations (user_id, id);

-- Who chose what, for polls that are not anonymous only. The option must
-- belong to the poll (composite foreign key) and count once per voter.
CREATE TABLE poll_votes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id   BIGINT NOT NULL,
    option_id BIGINT NOT NULL,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    voted_us  BIGINT NOT NULL,
    CONSTRAINT poll_votes_option_fkey FOREIGN KEY (poll_id, option_id) REFERENCES poll_options (poll_id, id) ON DELETE CASCADE,
    CONSTRAINT poll_votes_once UNIQUE (poll_id, user_id, option_id)
);
CREATE INDEX poll_votes_user_idx ON poll_votes (user_id);

CREATE TABLE blog_posts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        VARCHAR(255)  NOT NULL,
    slug         VARCHAR(300)  NOT NULL,
    content      TEXT          NOT NULL,
    excerpt      VARCHAR(500)  NOT NULL DEFAULT '',
    tags         TEXT          NOT NULL DEFAULT '[]',
    category     VARCHAR(64)   NOT NULL,
    image_url    VARCHAR(2048) NOT NULL DEFAULT '',
    reading_time INTEGER       NOT NULL DEFAULT 1,
    is_published INTEGER       NOT NULL DEFAULT 0,
    published_us BIGINT,
    author_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_email VARCHAR(254),
    created_us   BIGINT        NOT NULL,
    updated_us   BIGINT        NOT NULL
);
CREATE UNIQUE INDEX blog_posts_slug_key ON blog_posts (slug);
CREATE INDEX blog_posts_published_idx ON blog_posts (is_published, id);
CREATE INDEX blog_posts_author_idx ON blog_posts (author_id, id);

CREATE INDEX campaigns_author_idx ON campaigns (author_id, id);

-- +goose Down
DROP INDEX campaigns_author_idx;
DROP TABLE blog_posts;
DROP TABLE poll_votes;
DROP TABLE poll_participations;
DROP TABLE poll_options;
DROP TABLE polls;
ALTER TABLE users DROP COLUMN council_member_status;
