-- Courses → modules → lessons, enrolments and completions, reviews and forums.

CREATE TYPE course_status AS ENUM ('draft', 'published', 'archived');
CREATE TYPE course_level AS ENUM ('beginner', 'intermediate', 'advanced');

CREATE TABLE courses (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  instructor_id uuid NOT NULL REFERENCES users(id),
  slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
  title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  summary       text NOT NULL DEFAULT '' CHECK (length(summary) <= 1000),
  description   text NOT NULL DEFAULT '' CHECK (length(description) <= 50000),
  level         course_level NOT NULL DEFAULT 'beginner',
  language      text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
  tags          text[] NOT NULL DEFAULT '{}',
  status        course_status NOT NULL DEFAULT 'draft',
  -- In sequential mode a lesson opens only after the one before it is complete.
  sequential    boolean NOT NULL DEFAULT false,
  cover_url     text,
  rating_sum    integer NOT NULL DEFAULT 0,
  rating_count  integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  search        tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B')
  ) STORED
);
CREATE INDEX courses_search_idx ON courses USING gin (search);
CREATE INDEX courses_catalog_idx ON courses (published_at DESC, id DESC) WHERE status = 'published';
CREATE INDEX courses_instructor_idx ON courses (instructor_id);
CREATE INDEX courses_tags_idx ON courses USING gin (tags);

CREATE TABLE course_modules (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  course_id  uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  position   integer NOT NULL CHECK (position >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Deferred so a reorder can swap positions inside one transaction.
  CONSTRAINT course_modules_position_key UNIQUE (course_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE module_prerequisites (
  module_id          uuid NOT NULL REFERENCES course_modules(id) ON DELETE CASCADE,
  requires_module_id uuid NOT NULL REFERENCES course_modules(id) ON DELETE CASCADE,
  PRIMARY KEY (module_id, requires_module_id),
  CHECK (module_id <> requires_module_id)
);

CREATE TABLE lessons (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  module_id        uuid NOT NULL REFERENCES course_modules(id) ON DELETE CASCADE,
  course_id        uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body_md          text NOT NULL DEFAULT '' CHECK (length(body_md) <= 200000),
  video_url        text CHECK (video_url IS NULL OR video_url ~ '^https://'),
  duration_seconds integer NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
  position         integer NOT NULL CHECK (position >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lessons_position_key UNIQUE (module_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX lessons_course_idx ON lessons (course_id);

CREATE TABLE enrolments (
  user_id          uuid NOT NULL REFERENCES users(id),
  course_id        uuid NOT NULL REFERENCES courses(id),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unenrolled')),
  enrolled_at      timestamptz NOT NULL DEFAULT now(),
  unenrolled_at    timestamptz,
  -- Percent of the course's lessons completed, computed by the server from lesson_completions.
  percent          integer NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
  last_lesson_id   uuid REFERENCES lessons(id) ON DELETE SET NULL,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  PRIMARY KEY (user_id, course_id)
);
CREATE INDEX enrolments_course_idx ON enrolments (course_id);

CREATE TABLE lesson_completions (
  user_id      uuid NOT NULL REFERENCES users(id),
  lesson_id    uuid NOT NULL REFERENCES lessons(id),
  course_id    uuid NOT NULL REFERENCES courses(id),
  completed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, lesson_id)
);
CREATE INDEX lesson_completions_course_idx ON lesson_completions (user_id, course_id);

CREATE TABLE course_reviews (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  course_id   uuid NOT NULL REFERENCES courses(id),
  user_id     uuid NOT NULL REFERENCES users(id),
  rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body        text NOT NULL DEFAULT '' CHECK (length(body) <= 5000),
  flag_count  integer NOT NULL DEFAULT 0,
  hidden      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (course_id, user_id)
);

CREATE TABLE review_flags (
  review_id  uuid NOT NULL REFERENCES course_reviews(id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users(id),
  reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (review_id, user_id)
);

CREATE TABLE forum_threads (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  course_id      uuid NOT NULL REFERENCES courses(id),
  lesson_id      uuid REFERENCES lessons(id) ON DELETE SET NULL,
  author_id      uuid NOT NULL REFERENCES users(id),
  title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body           text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  pinned         boolean NOT NULL DEFAULT false,
  answer_post_id uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz,
  removed_by     uuid REFERENCES users(id)
);
CREATE INDEX forum_threads_course_idx ON forum_threads (course_id, pinned DESC, created_at DESC);

CREATE TABLE forum_posts (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  thread_id  uuid NOT NULL REFERENCES forum_threads(id),
  author_id  uuid NOT NULL REFERENCES users(id),
  body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  removed_by uuid REFERENCES users(id)
);
CREATE INDEX forum_posts_thread_idx ON forum_posts (thread_id, created_at);
ALTER TABLE forum_threads ADD CONSTRAINT forum_threads_answer_fk FOREIGN KEY (answer_post_id) REFERENCES forum_posts(id);
