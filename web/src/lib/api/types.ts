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
  created_at: string;
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
