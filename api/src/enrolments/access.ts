// Which lessons a learner may open: the course's sequential mode and its module prerequisites.
// 5b's lesson completion calls assertLessonOpen inside its own transaction before recording anything.
import type { Db } from '../audit/audit.repository.ts';
import { AppError, forbidden, notFound } from '../errors.ts';
import {
  findEnrolment,
  findLessonCourse,
  listCompletedLessonIds,
  listCourseLessonsInOrder,
  listModulePrerequisites,
} from './enrolments.repository.ts';

export interface OutlineLesson {
  id: string;
  module_id: string;
}

export interface LessonState {
  completed: boolean;
  open: boolean;
  /** Why it is locked: the earlier lesson (sequential mode) or the modules still to finish. */
  locked_by:
    { reason: 'sequential'; lesson_id: string } | { reason: 'prerequisites'; module_ids: string[] } | null;
}

/**
 * Pure rule. A module is complete when all its lessons are (an empty module is complete). A lesson
 * is open when every module its module requires is complete and, in sequential mode, every lesson
 * before it in course order (module position, then lesson position) is complete. Completed lessons
 * stay open.
 */
export function computeLessonStates(
  lessons: readonly OutlineLesson[],
  prerequisites: readonly { module_id: string; requires_module_id: string }[],
  completed: ReadonlySet<string>,
  sequential: boolean,
): Map<string, LessonState> {
  const incompleteModules = new Set<string>();
  for (const l of lessons) if (!completed.has(l.id)) incompleteModules.add(l.module_id);
  const requires = new Map<string, string[]>();
  for (const p of prerequisites)
    requires.set(p.module_id, [...(requires.get(p.module_id) ?? []), p.requires_module_id]);

  const states = new Map<string, LessonState>();
  let firstIncomplete: string | null = null;
  for (const l of lessons) {
    const done = completed.has(l.id);
    let lockedBy: LessonState['locked_by'] = null;
    if (!done) {
      const missing = (requires.get(l.module_id) ?? []).filter((m) => incompleteModules.has(m));
      if (missing.length) lockedBy = { reason: 'prerequisites', module_ids: missing };
      else if (sequential && firstIncomplete) lockedBy = { reason: 'sequential', lesson_id: firstIncomplete };
      if (!firstIncomplete) firstIncomplete = l.id;
    }
    states.set(l.id, { completed: done, open: lockedBy === null, locked_by: lockedBy });
  }
  return states;
}

/** Every lesson's state for one learner in one course, in course order. */
export async function lessonStatesFor(db: Db, userId: string, courseId: string, sequential: boolean) {
  const [lessons, prerequisites, completed] = await Promise.all([
    listCourseLessonsInOrder(db, courseId),
    listModulePrerequisites(db, courseId),
    listCompletedLessonIds(db, userId, courseId),
  ]);
  return { lessons, states: computeLessonStates(lessons, prerequisites, completed, sequential), completed };
}

/** The lesson to continue with: the first open, incomplete lesson in course order; null when all are done. */
export function resumeLessonId(
  lessons: readonly OutlineLesson[],
  states: ReadonlyMap<string, LessonState>,
): string | null {
  return lessons.find((l) => states.get(l.id)?.open && !states.get(l.id)?.completed)?.id ?? null;
}

/**
 * Throws unless the learner may complete the lesson now: it exists in a published course (404
 * `lesson_not_found` otherwise, so drafts stay invisible), the learner holds an active enrolment
 * (403 `not_enrolled`), and the lesson is open (403 `lesson_locked`, with `locked_by`). A lesson
 * already completed counts as open, so completing it again stays a no-op for the caller.
 */
export async function assertLessonOpen(
  db: Db,
  userId: string,
  lessonId: string,
): Promise<{ lessonId: string; courseId: string; moduleId: string }> {
  const lesson = await findLessonCourse(db, lessonId);
  if (!lesson || lesson.status !== 'published') throw notFound('lesson_not_found', 'No lesson with that id.');
  const enrolment = await findEnrolment(db, userId, lesson.course_id);
  if (!enrolment || enrolment.status !== 'active')
    throw forbidden('not_enrolled', 'Enrol in the course first.');
  const { states } = await lessonStatesFor(db, userId, lesson.course_id, lesson.sequential);
  const state = states.get(lessonId);
  if (!state?.open) {
    const detail =
      state?.locked_by?.reason === 'prerequisites'
        ? 'Finish the modules this one requires first.'
        : 'This course is sequential: finish the lessons before this one first.';
    throw new AppError(403, 'lesson_locked', detail, { locked_by: state?.locked_by ?? null });
  }
  return { lessonId, courseId: lesson.course_id, moduleId: lesson.module_id };
}
