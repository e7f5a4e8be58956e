// The rest of the site in Chromium: wallet sign-in and linking with a stand-in for the Freighter
// extension that signs with a test key, the live notification bell across a dropped connection,
// MFA set-up, the instructor's editor and the operator's dashboard (with screenshots of each).
import { Keypair } from '@stellar/stellar-sdk';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newPage, shot } from './browser.ts';
import { seed, signIn, signUp, uniqueEmail } from './fixtures.ts';
import { installFreighter } from './freighter.ts';
import type { Stack } from './stack.ts';
import { useSystem } from './suite.ts';

let stack: Stack;
let browser: Browser;
let courseSlug: string;

useSystem({}, async (system) => {
  ({ stack, browser } = system);
  ({ courseSlug } = await seed(stack));
});

async function insertNotification(userId: string, title: string): Promise<string> {
  const r = await stack.db.query<{ id: string }>(
    "INSERT INTO notifications (user_id, kind, title, body) VALUES ($1, 'test_event', $2, 'from the e2e test') RETURNING id",
    [userId, title],
  );
  return r.rows[0]!.id;
}

describe('wallet', () => {
  it('signs in with Freighter (SEP-10): a new learner bound to the wallet', async () => {
    const key = Keypair.random();
    const { page } = await newPage(browser, stack.webUrl);
    const signed = await installFreighter(page, key);
    await page.goto('/signin');
    await shot(page, 'signin');
    await page.getByRole('button', { name: 'Sign in with Freighter' }).click();
    await page.waitForURL(/\/dashboard/);
    expect(signed.length).toBe(1);
    await page.goto('/wallet');
    expect(await page.getByTestId('address').textContent()).toBe(key.publicKey());
    expect(await page.getByText('Your own wallet').isVisible()).toBe(true);
  });

  it('links Freighter to an email account through a signed SEP-10 challenge', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    const key = Keypair.random();
    await installFreighter(page, key);
    await signUp(page, 'Lin Wallet', uniqueEmail('lin'));
    await page.goto('/wallet');
    const custodial = await page.getByTestId('address').textContent();
    await shot(page, 'wallet');
    await page.getByRole('button', { name: 'Connect Freighter' }).click();
    await expect
      .poll(() => page.getByTestId('address').textContent(), { timeout: 15_000 })
      .toBe(key.publicKey());
    expect(custodial).not.toBe(key.publicKey());
    expect(await page.getByRole('status').textContent()).toContain('is linked');
  });

  it('offers the Freighter button only once the page can act on it', async () => {
    // Before hydration a click would do nothing (the flow needs the page's script), so the server
    // renders it disabled; with the script running it is enabled.
    const noJs = await browser.newContext({ baseURL: stack.webUrl, javaScriptEnabled: false });
    const still = await noJs.newPage();
    await still.goto('/signin');
    expect(await still.getByRole('button', { name: 'Sign in with Freighter' }).isDisabled()).toBe(true);
    await noJs.close();
    const { page } = await newPage(browser, stack.webUrl);
    await page.goto('/signin');
    await expect
      .poll(() => page.getByRole('button', { name: 'Sign in with Freighter' }).isEnabled(), {
        timeout: 15_000,
      })
      .toBe(true);
  });
});

describe('live notifications', () => {
  it('a reconnecting socket misses no notification', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'learner@starling.local');
    const user = await stack.db.query<{ id: string }>(
      "SELECT id FROM users WHERE email = 'learner@starling.local'",
    );
    const userId = user.rows[0]!.id;
    await stack.db.query('UPDATE notifications SET read_at = now() WHERE user_id = $1', [userId]);
    await page.goto('/dashboard');
    await page.evaluate(() => {
      const w = window as unknown as { __got: string[] };
      w.__got = [];
      window.addEventListener('starling:notification', (e) =>
        w.__got.push(String((e as CustomEvent<{ id: string }>).detail.id)),
      );
    });
    await expect.poll(() => page.locator('a.bell').getAttribute('data-live'), { timeout: 15_000 }).toBe('on');

    const a = await insertNotification(userId, 'First, while connected');
    await expect.poll(() => page.getByTestId('unread').textContent()).toBe('1');

    // The connection drops and the network stays down while two more arrive.
    await page.context().setOffline(true);
    await page.evaluate(() =>
      (window as unknown as { __starlingStream: { drop(): void } }).__starlingStream.drop(),
    );
    await expect.poll(() => page.locator('a.bell').getAttribute('data-live')).toBe('off');
    const b = await insertNotification(userId, 'Second, while offline');
    const c = await insertNotification(userId, 'Third, while offline');
    await page.waitForTimeout(1500);
    await page.context().setOffline(false);

    await expect.poll(() => page.getByTestId('unread').textContent(), { timeout: 30_000 }).toBe('3');
    expect(await page.evaluate(() => (window as unknown as { __got: string[] }).__got)).toEqual([a, b, c]);
    await page.goto('/notifications');
    expect(await page.getByTestId('notification').count()).toBeGreaterThanOrEqual(3);
    await shot(page, 'notifications');
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await expect.poll(() => page.getByTestId('unread-total').textContent()).toBe('0 unread');
  });
});

describe('forms before the script loads', () => {
  it('keeps what someone typed before hydration and signs them in', async () => {
    const { context, page } = await newPage(browser, stack.webUrl);
    // A slow connection: the page is interactive (server-rendered) long before its JavaScript runs.
    await context.route('**/_app/immutable/**', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto('/signin', { waitUntil: 'commit' });
    await page.getByLabel('Email').fill('learner@starling.local');
    await page.getByLabel('Password').fill('starling-demo-2026');
    await page.waitForLoadState('load');
    await page.waitForTimeout(500);
    expect(await page.getByLabel('Email').inputValue()).toBe('learner@starling.local');
    expect(await page.getByLabel('Password').inputValue()).toBe('starling-demo-2026');
    await Promise.all([
      page.waitForURL(/\/dashboard/),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
  });
});

describe('profile and MFA', () => {
  it('sets up MFA with a QR code and then signs in with a code', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    const email = uniqueEmail('mfa');
    await signUp(page, 'Mia Secure', email);
    await page.goto('/profile');
    expect(await page.getByTestId('referral-link').inputValue()).toContain('ref=');
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    const secret = (await page.getByTestId('mfa-secret').textContent())!;
    expect(await page.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    await shot(page, 'profile-mfa');
    await page.getByLabel('6-digit code').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toBeTruthy();
    const { TOTP } = await import('otpauth');
    const totp = new TOTP({ secret, digits: 6, period: 30 });
    await page.getByLabel('6-digit code').fill(totp.generate());
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.getByTestId('recovery-codes').isVisible()).toBe(true);

    const { page: again } = await newPage(browser, stack.webUrl);
    await again.goto('/signin');
    await again.getByLabel('Email').fill(email);
    await again.getByLabel('Password').fill('a long enough password');
    await again.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect
      .poll(
        async () =>
          (await again.getByRole('heading', { name: 'Two-step verification' }).isVisible()) ||
          (await again.locator('main').textContent()),
        { timeout: 15_000 },
      )
      .toBe(true);
    await again.getByLabel('Code').fill('123456');
    await again.getByRole('button', { name: 'Verify and sign in' }).click();
    await expect.poll(() => again.getByRole('alert').first().textContent()).toMatch(/code/i);
    expect(await again.getByRole('heading', { name: 'Two-step verification' }).isVisible()).toBe(true);
    // A fresh code (the previous one was used at enable time and is refused a second time).
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() % 30_000)) + 200));
    await again.getByLabel('Code').fill(totp.generate());
    await Promise.all([
      again.waitForURL(/\/dashboard/),
      again.getByRole('button', { name: 'Verify and sign in' }).click(),
    ]);
  });
});

describe('instructors and operators', () => {
  it('an instructor builds and publishes a course, which then appears in the catalog', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'instructor@starling.local');
    await page.goto('/teach');
    await page.getByLabel('Title').fill('Soroban Events in Practice');
    await page.getByLabel('Address').fill('soroban-events');
    await page.getByLabel('One-line summary').fill('Emit, index and verify contract events.');
    await Promise.all([
      page.waitForURL(/\/teach\/[0-9a-f-]{36}$/),
      page.getByRole('button', { name: 'Create draft' }).click(),
    ]);
    await page.getByLabel('New module title').fill('Events');
    await page.getByRole('button', { name: 'Add module' }).click();
    await expect.poll(() => page.locator('.module').count()).toBe(1);
    for (const title of ['Topics and data', 'Reading events back']) {
      await page
        .locator('.module details')
        .first()
        .evaluate((d) => ((d as HTMLDetailsElement).open = true));
      await page.getByLabel('Lesson title').fill(title);
      await page.getByLabel('Content (Markdown)').fill(`# ${title}\n\nSome **content**.`);
      await page.getByRole('button', { name: 'Add lesson' }).click();
      await expect.poll(() => page.getByRole('link', { name: title }).count()).toBe(1);
    }
    await page.getByRole('button', { name: 'Move Reading events back up' }).click();
    await expect
      .poll(async () => (await page.locator('.lessons li a').allTextContents())[0])
      .toBe('Reading events back');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.getByTestId('course-status').textContent()).toBe('published');
    await shot(page, 'teach-editor');
    await page.goto('/courses?q=soroban');
    expect(await page.getByRole('heading', { name: 'Soroban Events in Practice' }).isVisible()).toBe(true);
    await page.goto(`/courses/${courseSlug}`);
  });

  it('an operator sees the indexer and retries a failed intent', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    const failed = await stack.db.query<{ id: string }>(
      "INSERT INTO intents (kind, idempotency_key, args, status, attempts, last_error) VALUES ('mint_reward', 'referral:e2e-' || gen_random_uuid(), '{\"to\":\"GA\",\"amount\":\"500000000\"}', 'failed', 3, 'txBadSeq: sequence number too low') RETURNING id",
    );
    await signIn(page, 'operator@starling.local');
    // A few samples of the indexer's status, so the lag chart has a line to draw.
    for (let i = 0; i < 6; i++) {
      expect((await page.request.get('/ops/status.json')).ok()).toBe(true);
      await page.waitForTimeout(700);
    }
    await page.goto('/ops');
    const row = page.getByTestId('failed-intent').filter({ hasText: `#${failed.rows[0]!.id}` });
    expect(await row.textContent()).toContain('txBadSeq');
    // Without the chain no indexer reports, so there is no lag to draw.
    expect(await page.locator('svg.chart polyline').count()).toBe(stack.rpcUrl ? 1 : 0);
    expect(await page.getByTestId('rpc-health').textContent()).toBe(
      stack.rpcUrl ? 'healthy' : 'not configured',
    );
    await shot(page, 'ops');
    await row.getByRole('button', { name: /Retry/ }).click();
    // Requeued by the operator. With the chain up, the indexer may claim it at once and fail it
    // again on its bad args, so judge by the audit record and by the old error being gone.
    await expect
      .poll(async () => {
        const r = await stack.db.query<{ status: string; last_error: string | null; retried: boolean }>(
          `SELECT status, last_error, EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'intent.retried'
             AND a.target_id = i.id::text) AS retried FROM intents i WHERE i.id = $1`,
          [failed.rows[0]!.id],
        );
        const i = r.rows[0]!;
        return i.retried && (i.status !== 'failed' || !i.last_error?.startsWith('txBadSeq'));
      })
      .toBe(true);
  });
});
