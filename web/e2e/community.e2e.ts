// The community side of a course in Chromium: a learner writes, edits and deletes their review with
// JavaScript turned off and another learner reports it; forum authors edit and delete their own
// posts, the instructor pins and marks an answer, an admin removes a reply; the instructor sets
// module prerequisites (a cycle is refused with a readable message) and sequential mode.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newPage, shot } from './browser.ts';
import { seed, signIn, signUp, uniqueEmail } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { useSystem } from './suite.ts';

let stack: Stack;
let browser: Browser;
let courseSlug: string;
let courseId: string;

// The chain plays no part in reviews, forums or the editor.
useSystem({ chain: false }, async (system) => {
  ({ stack, browser } = system);
  ({ courseSlug } = await seed(stack));
  courseId = (await stack.db.query<{ id: string }>('SELECT id FROM courses WHERE slug = $1', [courseSlug]))
    .rows[0]!.id;
});

/** A page that never runs the site's scripts: every form must work as plain HTML. */
async function pageWithoutScripts(): Promise<Page> {
  const context = await browser.newContext({
    baseURL: stack.webUrl,
    viewport: { width: 1280, height: 860 },
    javaScriptEnabled: false,
  });
  return context.newPage();
}

async function enrol(page: Page): Promise<void> {
  await page.goto(`/courses/${courseSlug}`);
  await Promise.all([page.waitForURL(/\/learn\//), page.getByRole('button', { name: 'Enrol now' }).click()]);
}

/** Completes the lesson the page shows and waits for the next one. */
async function completeLesson(page: Page): Promise<void> {
  const before = page.url();
  await Promise.all([page.waitForURL((u) => u.toString() !== before), page.getByTestId('complete').click()]);
}

const courseRating = async () =>
  (
    await stack.db.query<{ rating_sum: number; rating_count: number }>(
      'SELECT rating_sum, rating_count FROM courses WHERE id = $1',
      [courseId],
    )
  ).rows[0];

const alertText = (page: Page) => page.getByRole('alert').first().textContent();
const statusText = (page: Page) => page.getByRole('status').first().textContent();

describe('reviews', () => {
  it('a learner reviews, edits and deletes their review with no JavaScript; another reports it', async () => {
    const page = await pageWithoutScripts();
    await signUp(page, 'Rae Reviewer', uniqueEmail('rae'));
    await enrol(page);
    await completeLesson(page);

    // One lesson of four: too early, and the page says how far there is to go.
    await page.goto(`/courses/${courseSlug}`);
    expect(await page.getByTestId('review-progress').textContent()).toContain('1 of the 2 lessons');
    await page.getByLabel('4 ★', { exact: true }).check();
    await page.getByLabel('What did you think?').fill('Too early to say.');
    await page.getByRole('button', { name: 'Save review' }).click();
    expect(await alertText(page)).toContain('Complete at least half of the course');
    expect(await page.getByLabel('What did you think?').inputValue()).toBe('Too early to say.');
    expect(await courseRating()).toEqual({ rating_sum: 0, rating_count: 0 });

    await page.getByRole('link', { name: 'Continue learning' }).click();
    await completeLesson(page);
    await page.goto(`/courses/${courseSlug}`);
    await page.getByLabel('4 ★', { exact: true }).check();
    await page.getByLabel('What did you think?').fill('Clear and short.');
    await page.getByRole('button', { name: 'Save review' }).click();
    expect(await statusText(page)).toContain('your review is saved');
    expect(await page.getByTestId('review').filter({ hasText: 'Clear and short.' }).count()).toBe(1);
    expect(await courseRating()).toEqual({ rating_sum: 4, rating_count: 1 });

    // The form is now the learner's own review, filled in, to edit.
    expect(await page.getByLabel('4 ★', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('What did you think?').inputValue()).toBe('Clear and short.');
    await page.getByLabel('5 ★', { exact: true }).check();
    await page.getByLabel('What did you think?').fill('Even better on a second read.');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect(await statusText(page)).toContain('your review is saved');
    const mine = page.getByTestId('review').filter({ hasText: 'Even better on a second read.' });
    expect(await mine.textContent()).toContain('edited');
    expect(await page.getByTestId('review').filter({ hasText: 'Clear and short.' }).count()).toBe(0);
    expect(await courseRating()).toEqual({ rating_sum: 5, rating_count: 1 });
    // Nobody reports their own review.
    expect(await mine.getByText('Report this review').count()).toBe(0);
    await shot(page, 'course-reviews');

    // Another learner reports it: a reason is required, and a report is taken once.
    const { page: other } = await newPage(browser, stack.webUrl);
    await signIn(other, 'learner@starling.local');
    await other.goto(`/courses/${courseSlug}`);
    const review = other.getByTestId('review').filter({ hasText: 'Even better on a second read.' });
    await review.getByText('Report this review').click();
    await review.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => review.locator('.field-error').textContent()).toMatch(/Reason/);
    await review.getByLabel('What is wrong with this review?').fill('Looks like it was written by a bot.');
    await review.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => review.getByRole('status').textContent()).toContain('Reported');
    const flags = await stack.db.query<{ flag_count: number }>(
      'SELECT flag_count FROM course_reviews WHERE course_id = $1',
      [courseId],
    );
    expect(flags.rows).toEqual([{ flag_count: 1 }]);

    // Deleting it takes it out of the list and the rating, and the review form comes back.
    await page.goto(`/courses/${courseSlug}`);
    await page.getByRole('button', { name: 'Delete my review' }).click();
    expect(await statusText(page)).toContain('Your review is deleted');
    expect(await page.getByTestId('review').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save review' }).isVisible()).toBe(true);
    expect(await courseRating()).toEqual({ rating_sum: 0, rating_count: 0 });
  });
});

describe('forum', () => {
  let threadUrl = '';

  it('an author edits their question and reply, and deletes the reply', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signUp(page, 'Fay Forum', uniqueEmail('fay'));
    await enrol(page);
    await page.goto(`/courses/${courseSlug}/forum`);
    await page.getByLabel('Title').fill('How long does a ledger take?');
    await page.getByLabel('Details').fill('The lesson says five seconds. Always?');
    await Promise.all([
      page.waitForURL(/\/forum\/[0-9a-f-]{36}$/),
      page.getByRole('button', { name: 'Post', exact: true }).click(),
    ]);
    threadUrl = new URL(page.url()).pathname;
    // Learners neither pin nor mark answers.
    expect(await page.getByRole('button', { name: 'Pin' }).count()).toBe(0);

    const thread = page.getByTestId('thread');
    await thread.getByText('Edit', { exact: true }).click();
    await thread.getByLabel('Title').fill('');
    await thread.getByRole('button', { name: 'Save question' }).click();
    await expect.poll(() => page.locator('#thread-title-err').textContent()).toMatch(/Title/);
    await thread.getByLabel('Title').fill('How long does a ledger take to close?');
    await thread.getByRole('button', { name: 'Save question' }).click();
    await expect
      .poll(() => thread.getByRole('heading', { level: 1 }).textContent())
      .toBe('How long does a ledger take to close?');
    expect(await thread.textContent()).toContain('edited');

    for (const body of ['I think about five seconds.', 'Thanks in advance!']) {
      await page.getByLabel('Your reply').last().fill(body);
      await page.getByRole('button', { name: 'Post reply' }).click();
      await expect.poll(() => page.getByTestId('post').filter({ hasText: body }).count()).toBe(1);
    }
    const first = page.getByTestId('post').filter({ hasText: 'I think about five seconds.' });
    await first.getByText('Edit', { exact: true }).click();
    await first.getByLabel('Your reply').fill('About five seconds, and a closed ledger is final.');
    await first.getByRole('button', { name: 'Save reply' }).click();
    const edited = page.getByTestId('post').filter({ hasText: 'a closed ledger is final' });
    await expect.poll(() => edited.textContent()).toContain('edited');

    const thanks = page.getByTestId('post').filter({ hasText: 'Thanks in advance!' });
    await thanks.getByText('Delete', { exact: true }).click();
    await thanks.getByRole('button', { name: 'Yes, delete my reply' }).click();
    await expect.poll(() => page.getByTestId('post').count()).toBe(1);
  });

  it('the instructor pins the thread and marks an answer; an admin removes a reply', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'instructor@starling.local');
    await page.goto(threadUrl);
    await page.getByRole('button', { name: 'Pin' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Unpin' }).count()).toBe(1);
    await page.getByLabel('Your reply').last().fill('Yes: about 5 s, and closed ledgers are final.');
    await page.getByRole('button', { name: 'Post reply' }).click();
    const mine = page.getByTestId('post').filter({ hasText: 'closed ledgers are final' });
    await expect.poll(() => mine.count()).toBe(1);
    // The instructor edits only their own reply.
    const learners = page.getByTestId('post').filter({ hasText: 'a closed ledger is final' });
    expect(await learners.getByText('Edit', { exact: true }).count()).toBe(0);
    await mine.getByRole('button', { name: 'Mark as answer' }).click();
    await expect.poll(() => mine.getByText('Answer', { exact: true }).count()).toBe(1);
    await shot(page, 'forum-thread');
    await page.goto(`/courses/${courseSlug}/forum`);
    const item = page.getByTestId('thread-item').first();
    expect(await item.textContent()).toContain('Pinned');
    expect(await item.textContent()).toContain('Answered');

    const { page: admin } = await newPage(browser, stack.webUrl);
    await signIn(admin, 'admin@starling.local');
    await admin.goto(threadUrl);
    const learnerPost = admin.getByTestId('post').filter({ hasText: 'a closed ledger is final' });
    await learnerPost.getByText('Remove', { exact: true }).click();
    await learnerPost.getByRole('button', { name: 'Yes, remove this reply' }).click();
    await expect.poll(() => admin.getByTestId('post').count()).toBe(1);
    const removed = await stack.db.query<{ removed_by: string | null }>(
      "SELECT p.removed_by FROM forum_posts p JOIN users u ON u.id = p.removed_by WHERE u.email = 'admin@starling.local'",
    );
    expect(removed.rows).toHaveLength(1);
  });

  it('the author deletes their question', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    const fay = await stack.db.query<{ email: string }>(
      "SELECT email FROM users WHERE display_name = 'Fay Forum'",
    );
    await signIn(page, fay.rows[0]!.email, 'a long enough password');
    await page.goto(threadUrl);
    await page.getByTestId('thread').getByText('Delete', { exact: true }).click();
    await Promise.all([
      page.waitForURL(/\/forum\?deleted=1$/),
      page.getByRole('button', { name: 'Yes, delete the question' }).click(),
    ]);
    expect(await statusText(page)).toContain('The question is deleted');
    expect(await page.getByTestId('thread-item').count()).toBe(0);
  });
});

describe('course editor', () => {
  it('lists the course’s learners with their progress on the roster', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'instructor@starling.local');
    await page.goto(`/teach/${courseId}`);
    await page.getByRole('link', { name: 'Roster' }).click();
    await page.waitForURL(/\/roster$/);
    const rae = page.getByTestId('roster-row').filter({ hasText: 'Rae Reviewer' });
    expect(await rae.textContent()).toContain('50% · 2/4');
    expect(await page.getByTestId('roster-row').filter({ hasText: 'Fay Forum' }).textContent()).toContain(
      '0% · 0/4',
    );
    await shot(page, 'teach-roster');
  });

  it('sets module prerequisites, refuses a cycle, and turns on sequential mode', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'instructor@starling.local');
    await page.goto(`/teach/${courseId}`);
    expect(await page.getByTestId('requires-1').textContent()).toBe('No prerequisites');
    const prereqs = (title: string) => page.locator('details', { hasText: `Prerequisites of “${title}”` });
    await prereqs('Smart contracts').getByText('Prerequisites of').click();
    await prereqs('Smart contracts').getByLabel('The network', { exact: true }).check();
    await prereqs('Smart contracts').getByRole('button', { name: 'Save prerequisites' }).click();
    await expect.poll(() => page.getByTestId('requires-1').textContent()).toBe('Opens after: The network');

    await prereqs('The network').getByText('Prerequisites of').click();
    await prereqs('The network').getByLabel('Smart contracts', { exact: true }).check();
    await prereqs('The network').getByRole('button', { name: 'Save prerequisites' }).click();
    await expect
      .poll(() => prereqs('The network').getByRole('alert').textContent())
      .toContain('would make a cycle');
    expect(await page.getByTestId('requires-0').textContent()).toBe('No prerequisites');
    // The refused choice stays ticked, to change or keep.
    expect(await prereqs('The network').getByLabel('Smart contracts', { exact: true }).isChecked()).toBe(
      true,
    );
    const edges = await stack.db.query(
      'SELECT p.* FROM module_prerequisites p JOIN course_modules m ON m.id = p.module_id WHERE m.course_id = $1',
      [courseId],
    );
    expect(edges.rows).toHaveLength(1);
    await shot(page, 'teach-prerequisites');

    await page.getByLabel('Lessons open in order').check();
    await page.getByRole('button', { name: 'Save details' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    expect(await page.getByLabel('Lessons open in order').isChecked()).toBe(true);
    const c = await stack.db.query('SELECT sequential FROM courses WHERE id = $1', [courseId]);
    expect(c.rows[0]).toEqual({ sequential: true });

    // A new learner sees the second module locked until the first is done…
    const { page: learner } = await newPage(browser, stack.webUrl);
    await signUp(learner, 'Lee Locked', uniqueEmail('lee'));
    await enrol(learner);
    expect(await learner.getByText('(locked: Finish the required modules first)').count()).toBe(2);
    // …and, in sequential mode, the second lesson of the first until the first is done.
    expect(await learner.getByText('(locked: Finish the previous lesson first)').count()).toBe(1);
  });
});

describe('operator dashboard history', () => {
  it('draws the lag chart from the stored history, with no JavaScript', async () => {
    await stack.db.query(
      "INSERT INTO indexer_state (singleton, status, network, last_ledger, latest_rpc_ledger, lag_ledgers) VALUES (true, 'following', 'local', 990, 1000, 10) ON CONFLICT (singleton) DO UPDATE SET updated_at = now()",
    );
    // Samples an indexer wrote before this page (or this web process) ever existed.
    for (const [minutesAgo, lag] of [
      [50, 300],
      [30, 120],
      [10, 10],
      [1, 2],
    ])
      await stack.db.query(
        "INSERT INTO indexer_status_samples (sampled_at, status, lag_ledgers, events_ingested) VALUES (now() - make_interval(mins => $1), 'catching_up', $2, 0)",
        [minutesAgo, lag],
      );
    const page = await pageWithoutScripts();
    await signIn(page, 'operator@starling.local');
    await page.goto('/ops');
    expect(await page.locator('svg.chart polyline').count()).toBe(1);
    expect(await page.locator('svg.chart').getAttribute('aria-label')).toContain('over the last 49 min');
    expect(await page.locator('svg.chart text').first().textContent()).toBe('300 ledgers');
    expect(await page.getByTestId('history-span').textContent()).toContain('4 points');
    await page.getByRole('link', { name: '24 h' }).click();
    expect(await page.getByRole('link', { name: '24 h' }).getAttribute('aria-current')).toBe('page');
    expect(await page.locator('svg.chart polyline').count()).toBe(1);

    // With scripts, the open page picks up what the indexer writes next.
    const { page: live } = await newPage(browser, stack.webUrl);
    await signIn(live, 'operator@starling.local');
    await live.goto('/ops');
    expect(await live.locator('svg.chart text').first().textContent()).toBe('300 ledgers');
    await shot(live, 'ops-history');
    await stack.db.query(
      "INSERT INTO indexer_status_samples (sampled_at, status, lag_ledgers, events_ingested) VALUES (now(), 'catching_up', 900, 0)",
    );
    await expect
      .poll(() => live.locator('svg.chart text').first().textContent(), { timeout: 15_000 })
      .toBe('900 ledgers');
  });
});
