// The API's response shapes the site reads (mirrors api/src/schemas; fields the site does not use
// are left out on purpose).

export type Role = 'learner' | 'instructor' | 'admin' | 'operator';
export type ChainStatus = 'pending' | 'submitted' | 'confirmed' | 'failed';

export interface Session {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user_id: string;
}
export type LoginResult = Session | { mfa_required: true; mfa_token: string };

export interface Me {
  id: string;
  email: string | null;
  display_name: string;
  bio: string;
  role: Role;
  stellar_address: string;
  wallet_kind: 'custodial' | 'external';
  referral_code: string;
  kyc_status: string;
  mfa_enabled: boolean;
  created_at: string;
}

export interface Rating {
  average: number | null;
  count: number;
}

export interface CourseSummary {
  id: string;
  slug: string;
  title: string;
  summary: string;
  level: 'beginner' | 'intermediate' | 'advanced';
  language: string;
  tags: string[];
  status: 'draft' | 'published' | 'archived';
  cover_url: string | null;
  instructor: { id: string; display_name: string };
  rating: Rating;
  published_at: string | null;
}

export interface SyllabusLesson {
  id: string;
  title: string;
  position: number;
  duration_seconds: number;
  has_video: boolean;
}
export interface SyllabusModule {
  id: string;
  title: string;
  position: number;
  requires: string[];
  lessons: SyllabusLesson[];
}

export interface Course extends CourseSummary {
  description: string;
  sequential: boolean;
  instructor: { id: string; display_name: string; bio: string };
  lesson_count: number;
  total_duration_seconds: number;
  syllabus: SyllabusModule[];
}

export interface CatalogPage {
  courses: CourseSummary[];
  next_cursor: string | null;
}

export interface Lesson {
  id: string;
  course_id: string;
  module_id: string;
  title: string;
  position: number;
  body_md: string;
  body_html: string;
  video_url: string | null;
  duration_seconds: number;
}

export interface ChainState {
  status: ChainStatus;
  tx_hash: string | null;
  ledger: number | null;
  updated_at: string;
}

export interface CertificateSummary {
  id: string;
  status: 'pending' | 'confirmed' | 'revoked';
  document_hash: string;
  issued_at: string;
  chain: ChainState | null;
  revocation: { revoked_at: string; reason: string | null; chain: ChainState | null } | null;
}

export interface CourseChainState {
  course_id: string;
  percent: number;
  completed_at: string | null;
  progress_chain: (ChainState & { percent: number }) | null;
  onchain_percent: number | null;
  certificate: CertificateSummary | null;
}

export interface Completion extends CourseChainState {
  lesson_id: string;
  lesson_completed_at: string;
}

export interface MyCourse extends CourseChainState {
  title: string;
  status: string;
  slug?: string;
}

export interface Review {
  id: string;
  rating: number;
  body: string;
  author?: { id: string; display_name: string };
  user?: { id: string; display_name: string };
  edited?: boolean;
  created_at: string;
  updated_at?: string;
}

export interface MyReview {
  review: (Review & { hidden: boolean }) | null;
  can_review: boolean;
  completed_lessons: number;
  lessons_needed: number;
}

export interface Notification {
  id: string | number;
  kind?: string;
  type?: string;
  title?: string;
  body?: string;
  message?: string;
  link?: string | null;
  data?: Record<string, unknown>;
  read_at: string | null;
  created_at: string;
}

export interface Enrolment {
  course: { id: string; slug: string; title: string; status: string; cover_url: string | null };
  status: 'active' | 'unenrolled';
  enrolled_at: string;
  percent: number;
  completed_lessons: number;
  total_lessons: number;
  completed_at: string | null;
  last_activity_at: string;
  last_lesson_id: string | null;
  resume: { id: string; module_id: string; title: string } | null;
}

export interface LessonState {
  lesson_id: string;
  module_id: string;
  title: string;
  completed: boolean;
  open: boolean;
  locked_by:
    { reason: 'sequential'; lesson_id: string } | { reason: 'prerequisites'; module_ids: string[] } | null;
}

export interface EnrolmentDetail extends Enrolment {
  lessons: LessonState[];
}

export interface MyCertificate extends CertificateSummary {
  course: { id: string; title: string; slug: string };
  verify_url: string;
}

export interface Credential {
  id: string;
  status: 'pending' | 'confirmed' | 'revoked';
  learner: { name: string; address: string };
  course: { id: string; title: string; slug: string };
  issued_at: string;
  confirmed_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  document: Record<string, unknown>;
  document_hash: string;
  hash_algorithm: string;
  chain: {
    network: string;
    contract_id: string | null;
    certificate_id: string;
    tx_hash: string | null;
    ledger: number | null;
    ledger_closed_at: string | null;
  } | null;
  revocation_chain: { tx_hash: string; ledger: number | null; ledger_closed_at: string | null } | null;
  links: { verify: string; document: string; pdf: string; badge: string };
}

export interface Intent {
  id: string;
  kind: string;
  idempotency_key: string;
  user_id: string | null;
  course_id: string | null;
  certificate_id: string | null;
  args: Record<string, unknown>;
  status: string;
  attempts: number;
  last_error: string | null;
  tx_hash: string | null;
  next_attempt_at: string;
  submitted_at: string | null;
  confirmed_at: string | null;
  confirmed_ledger: number | null;
  created_at: string;
  updated_at: string;
}

export interface IndexerStatus {
  status: string;
  status_detail: string | null;
  network: string;
  cursor: string | null;
  last_ledger: number | null;
  last_ledger_closed_at: string | null;
  latest_rpc_ledger: number | null;
  oldest_rpc_ledger: number | null;
  lag_ledgers: number | null;
  lag_seconds: number | null;
  leader: string | null;
  events_ingested: string;
  updated_at: string | null;
  seconds_since_update: number | null;
  intents: Record<string, number>;
}

export interface IndexerHistory {
  window_seconds: number;
  bucket_seconds: number;
  samples: {
    at: string;
    status: string;
    lag_ledgers: number | null;
    lag_seconds: number | null;
    last_ledger: number | null;
    latest_rpc_ledger: number | null;
    events_ingested: string;
  }[];
}
