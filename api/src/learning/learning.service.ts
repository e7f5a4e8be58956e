// Lesson completion and what follows from it. One database transaction stores the completion, the
// server-computed percent and every intent it implies (progress; at 100 %: the certificate and its
// issue intent; on a referred learner's first completed course: the referrer's reward), so either
// all of it happens or none of it does. Each intent has a deterministic key: retries and races
// write one row.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { recordAudit, type Db } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { assertLessonOpen } from '../enrolments/access.ts';
import {
  courseIdHex,
  insertIntent,
  intentKeys,
  listIntentsForCertificates,
  listIntentsForUser,
  type IntentRow,
} from '../intents/intents.repository.ts';
import { chainStateOf, latestProgressIntent } from '../intents/chain-status.ts';
import { buildCertificateDocument, hashDocument } from '../certificates/certificate-document.ts';
import {
  findCertificateFor,
  insertCertificate,
  listCertificatesForCourses,
  type CertificateRow,
} from '../certificates/certificates.repository.ts';
import { findUserAddresses } from '../rewards/rewards.repository.ts';
import { insertNotification } from '../notifications/notifications.repository.ts';
import {
  findCompletionSubjects,
  findEnrolmentProgress,
  findLessonCompletion,
  findOnchainProgress,
  listEnrolmentProgress,
  lockEnrolmentForLesson,
  recordCompletion,
} from './learning.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** 50 BST with 7 decimals, as the i128 the token contract takes. */
export const REFERRAL_REWARD_BASE_UNITS = '500000000';
export const MILESTONES = [25, 50, 75, 100] as const;

export function certificateSummary(cert: CertificateRow | undefined, intents: readonly IntentRow[]) {
  if (!cert) return null;
  const issue = intents.find((i) => i.kind === 'issue_certificate' && i.certificate_id === cert.id);
  const revoke = intents.find((i) => i.kind === 'revoke_certificate' && i.certificate_id === cert.id);
  const chain = chainStateOf(issue);
  return {
    id: cert.id,
    status: cert.status as 'pending' | 'confirmed' | 'revoked',
    document_hash: cert.document_hash,
    issued_at: cert.issued_at.toISOString(),
    // The chain projection is the truth once ingest has seen the event.
    chain: cert.chain_certificate_id
      ? {
          status: 'confirmed' as const,
          tx_hash: cert.tx_hash,
          ledger: cert.ledger,
          updated_at: (cert.confirmed_at ?? cert.updated_at).toISOString(),
        }
      : chain,
    revocation: cert.revoked_at
      ? { revoked_at: cert.revoked_at.toISOString(), reason: cert.revoke_reason, chain: chainStateOf(revoke) }
      : null,
  };
}

export function createLearningService(ctx: AppContext) {
  const { db, config } = ctx;

  /**
   * What the learner sees of their courses: percent, the on-chain progress (over every address
   * that is or was theirs) and the certificate. Four queries however many courses.
   */
  async function courseStates(
    userId: string,
    enrolments: readonly { course_id: string; percent: number; completed_at: Date | null }[],
  ) {
    const courseIds = enrolments.map((e) => e.course_id);
    const [intents, certs, addresses] = await Promise.all([
      listIntentsForUser(db, userId, courseIds),
      listCertificatesForCourses(db, userId, courseIds),
      findUserAddresses(db, userId),
    ]);
    const onchain = await findOnchainProgress(
      db,
      addresses.map((a) => a.address),
      courseIds,
    );
    return enrolments.map((e) => {
      const mine = intents.filter((i) => i.course_id === e.course_id);
      const progressIntent = latestProgressIntent(mine);
      const recorded = onchain.filter((o) => o.course_id === e.course_id).map((o) => o.percent);
      return {
        course_id: e.course_id,
        percent: e.percent,
        completed_at: e.completed_at?.toISOString() ?? null,
        progress_chain: progressIntent
          ? {
              percent: Number((progressIntent.args as { percent: number }).percent),
              ...chainStateOf(progressIntent)!,
            }
          : null,
        onchain_percent: recorded.length ? Math.max(...recorded) : null,
        certificate: certificateSummary(
          certs.find((c) => c.course_id === e.course_id),
          mine,
        ),
      };
    });
  }

  /** The certificate and its issue intent; nothing when the learner already has one for the course. */
  async function issueCertificate(
    tx: Db,
    principal: UserPrincipal,
    courseId: string,
    requestId: string | null,
  ) {
    const userId = principal.userId;
    const s = await findCompletionSubjects(tx, userId, courseId);
    const certificateId = randomUUID();
    const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const document = buildCertificateDocument({
      certificateId,
      learner: { name: s.display_name, address: s.stellar_address },
      course: { id: courseId, title: s.course_title, slug: s.course_slug, instructor: s.instructor_name },
      completedAt: issuedAt,
      issuerUrl: config.PUBLIC_WEB_URL,
      network: config.STELLAR_NETWORK,
    });
    const { canonical, hash } = hashDocument(document);
    const cert = await insertCertificate(tx, {
      id: certificateId,
      userId,
      courseId,
      studentAddress: s.stellar_address,
      document,
      canonical,
      hash,
      issuedAt,
    });
    if (!cert) return s;
    await insertIntent(tx, {
      kind: 'issue_certificate',
      key: intentKeys.certificate(userId, courseId),
      userId,
      courseId,
      certificateId,
      args: {
        student: s.stellar_address,
        course_id: courseIdHex(courseId),
        metadata_hash: hash,
        certificate_id: certificateId,
      },
    });
    await insertNotification(tx, {
      userId,
      kind: 'certificate_pending',
      title: 'Your certificate is on its way',
      body: `You completed "${s.course_title}". Your certificate is being recorded on Stellar.`,
      data: { certificate_id: certificateId, course_id: courseId },
      dedupeKey: `certificate_pending:${certificateId}`,
    });
    await recordAudit(tx, {
      actor: principal,
      action: 'certificate.issued',
      targetType: 'certificate',
      targetId: certificateId,
      requestId,
      data: { course_id: courseId, document_hash: hash },
    });
    return s;
  }

  /** The referrer's 50 BST, once per referee however many courses they complete (the key says so). */
  async function rewardReferrer(
    tx: Db,
    s: Awaited<ReturnType<typeof findCompletionSubjects>>,
    courseId: string,
  ) {
    if (!s.referred_by || !s.referrer_address) return;
    const intent = await insertIntent(tx, {
      kind: 'mint_reward',
      key: intentKeys.referral(s.user_id),
      userId: s.referred_by,
      courseId,
      args: {
        to: s.referrer_address,
        amount: REFERRAL_REWARD_BASE_UNITS,
        reason: 'referral',
        referee_id: s.user_id,
      },
    });
    if (!intent) return;
    await insertNotification(tx, {
      userId: s.referred_by,
      kind: 'reward_pending',
      title: 'A referral reward is on its way',
      body: `${s.display_name} completed a course: 50 BST are being minted to your wallet.`,
      data: { intent_id: intent.id, amount: REFERRAL_REWARD_BASE_UNITS },
      dedupeKey: `reward_pending:${intent.id}`,
    });
  }

  return {
    async completeLesson(principal: UserPrincipal, lessonId: string, requestId: string | null) {
      const userId = principal.userId;
      return db.transaction().execute(async (tx) => {
        const locked = await lockEnrolmentForLesson(tx, userId, lessonId);
        // A lesson of a published course without sequential mode or prerequisites is open to every
        // enrolled learner; anything else (and every refusal: 404 / 403) is decided by the access
        // rules, after the lock so the completions they read are current.
        const trivial =
          locked?.status === 'active' &&
          locked.course_status === 'published' &&
          !locked.sequential &&
          !locked.has_prerequisites;
        if (!trivial) await assertLessonOpen(tx, userId, lessonId);
        if (!locked || locked.status !== 'active')
          throw forbidden('not_enrolled', 'Enrol in the course first.');
        const courseId = locked.course_id;

        const written = await recordCompletion(tx, {
          userId,
          lessonId,
          courseId,
          student: locked.stellar_address,
          audit: { actorType: 'user', actorId: userId, requestId },
        });
        const percent = written.percent ?? locked.percent;
        const completedAt = written.course_completed_at ?? locked.completed_at;
        if (written.completed_at && written.percent !== null) {
          const previous = locked.percent;
          for (const m of MILESTONES) {
            if (previous < m && percent >= m) {
              await insertNotification(tx, {
                userId,
                kind: m === 100 ? 'course_completed' : 'lesson_milestone',
                title: m === 100 ? 'Course completed' : `${m}% of the course done`,
                body:
                  m === 100
                    ? 'You completed every lesson of the course.'
                    : `You are ${m}% through the course. Keep going!`,
                data: { course_id: courseId, milestone: m, percent },
                dedupeKey: `milestone:${userId}:${courseId}:${m}`,
              });
            }
          }
          if (percent === 100) {
            const subjects = await issueCertificate(tx, principal, courseId, requestId);
            await rewardReferrer(tx, subjects, courseId);
          }
        }
        const lessonCompletedAt =
          written.completed_at ?? (await findLessonCompletion(tx, userId, lessonId))?.completed_at;
        if (!lessonCompletedAt) throw notFound('lesson_not_found', 'No lesson with that id.');
        // Certificates exist only for courses that reached 100 %, which set completed_at for good.
        const cert = completedAt ? await findCertificateFor(tx, userId, courseId) : undefined;
        return {
          lesson_id: lessonId,
          lesson_completed_at: lessonCompletedAt.toISOString(),
          course_id: courseId,
          percent,
          completed_at: completedAt?.toISOString() ?? null,
          certificate: cert
            ? certificateSummary(cert, await listIntentsForCertificates(tx, [cert.id]))
            : null,
        };
      });
    },

    /** Per course: percent, the on-chain progress state and the certificate's state. */
    async myProgress(userId: string) {
      const enrolments = await listEnrolmentProgress(db, userId);
      const states = await courseStates(userId, enrolments);
      return enrolments.map((e, i) => ({ title: e.title, status: e.status, ...states[i]! }));
    },

    async myCourseProgress(userId: string, courseId: string) {
      const enrolment = await findEnrolmentProgress(db, userId, courseId);
      if (!enrolment) throw notFound('enrolment_not_found', 'You are not enrolled in that course.');
      return (await courseStates(userId, [enrolment]))[0]!;
    },
  };
}

export type LearningService = ReturnType<typeof createLearningService>;
