// A learner signs up, finds and enrols in a course, completes every lesson and sees the certificate;
// a verifier opens the certificate's link (the QR code's target) and sees it; an admin revokes it and
// the verifier sees it revoked. The site is the built one, the API the real one.
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { newPage, shot } from './browser.ts';
import { seed, signIn, uniqueEmail } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { useSystem } from './suite.ts';

let stack: Stack;
let browser: Browser;
let courseSlug: string;
let certificateId = '';

useSystem({}, async (system) => {
  ({ stack, browser } = system);
  if (stack.chainSkipped) console.warn(`e2e: no chain, certificates stay pending (${stack.chainSkipped})`);
  ({ courseSlug } = await seed(stack));
});

const errorsOf = (p: Page) => (p as Page & { errors?: string[] }).errors ?? [];

describe('learner to verifier', () => {
  it('signs up, with clear messages for bad input', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await page.goto('/');
    expect(await page.getByRole('heading', { name: 'Learning you can prove.' }).isVisible()).toBe(true);
    await shot(page, 'home');
    // Invited by the demo learner: their referral code rides along on the sign-up link.
    const referrer = await stack.db.query<{ referral_code: string }>(
      "SELECT referral_code FROM users WHERE email = 'learner@starling.local'",
    );
    await page.goto(`/signup?ref=${referrer.rows[0]!.referral_code}`);
    expect(await page.getByLabel('Referral code').inputValue()).toBe(referrer.rows[0]!.referral_code);
    await page.getByLabel('Your name').fill('Grace Learner');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.locator('.field-error').count()).toBeGreaterThan(0);
    const messages = (await page.locator('.field-error').allTextContents()).join(' ');
    expect(messages).toMatch(/email|Password/i);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toBeTruthy();
    await shot(page, 'signup-errors');

    const email = uniqueEmail('grace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a long enough password');
    await Promise.all([
      page.waitForURL(/\/courses\?welcome=1/),
      page.getByRole('button', { name: 'Create account' }).click(),
    ]);
    expect(await page.getByText('Welcome to Starling').isVisible()).toBe(true);
    // The session lives in httpOnly cookies; scripts cannot read either token.
    expect(await page.evaluate(() => document.cookie)).not.toMatch(/sl_access|sl_refresh/);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'sl_refresh')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    stack.db.query('SELECT 1');
    (globalThis as { learnerPage?: Page }).learnerPage = page;
  });

  it('finds the course in the catalog and enrols', async () => {
    const page = (globalThis as { learnerPage?: Page }).learnerPage!;
    await page.goto('/courses?q=stellar');
    await expect.poll(() => page.locator('a.course').count()).toBeGreaterThan(0);
    await page.goto('/courses');
    await shot(page, 'catalog');
    await page.goto('/courses?level=advanced');
    expect(await page.getByText('Nothing found').isVisible()).toBe(true);
    await page.goto(`/courses/${courseSlug}`);
    expect(await page.getByRole('heading', { name: 'Syllabus' }).isVisible()).toBe(true);
    await shot(page, 'course');
    await Promise.all([
      page.waitForURL(/\/learn\//),
      page.getByRole('button', { name: 'Enrol now' }).click(),
    ]);
  });

  it('completes every lesson and sees the certificate', async () => {
    const page = (globalThis as { learnerPage?: Page }).learnerPage!;
    await shot(page, 'lesson');
    for (let i = 0; i < 20; i++) {
      const button = page.getByTestId('complete');
      if (!(await button.count())) break;
      const before = page.url();
      await button.click();
      await expect
        .poll(async () => page.url() !== before || (await page.getByTestId('complete').count()) === 0, {
          timeout: 15_000,
        })
        .toBe(true);
    }
    await expect.poll(() => page.getByTestId('percent').textContent()).toBe('100%');
    expect(await page.getByText('You finished the course!').isVisible()).toBe(true);

    await page.goto('/certificates');
    const card = page.getByTestId('certificate').first();
    expect(await card.isVisible()).toBe(true);
    if (stack.rpcUrl) {
      // The indexer submits issue_credential and confirms it from the chain's event.
      await expect
        .poll(
          async () => {
            await page.reload();
            return card.getAttribute('data-status');
          },
          { timeout: 90_000, interval: 1000 },
        )
        .toBe('confirmed');
    } else {
      // Without the chain the certificate stays pending: issued, not yet chain-confirmed.
      expect(await card.getAttribute('data-status')).toBe('pending');
    }
    const href = await card.getByRole('link', { name: 'Verification page' }).getAttribute('href');
    certificateId = href!.split('/').pop()!;
    await shot(page, 'certificates');
    await page.goto('/dashboard');
    expect(await page.getByTestId('my-course').count()).toBe(1);
    expect(await page.getByTestId('my-course').first().textContent()).toContain('100%');
    await shot(page, 'dashboard');
    expect(errorsOf(page)).toEqual([]);
  });

  it('the referrer sees the 50 BST reward in their wallet', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    await signIn(page, 'learner@starling.local');
    await page.goto('/wallet');
    if (stack.rpcUrl) {
      // mint_reward is submitted by the indexer and the balance comes from the indexed transfer event.
      await expect
        .poll(
          async () => {
            await page.reload();
            return page.getByTestId('balance').textContent();
          },
          { timeout: 90_000, interval: 1500 },
        )
        .toMatch(/^50\b/);
    } else {
      expect(await page.getByText('+50 BST').first().isVisible()).toBe(true);
    }
    await shot(page, 'wallet-rewards');
  });

  it('reviews the course and asks a question in its forum', async () => {
    const page = (globalThis as { learnerPage?: Page }).learnerPage!;
    await page.goto(`/courses/${courseSlug}`);
    await page.getByRole('button', { name: 'Save review' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/rating/i);
    await page.getByLabel('4 ★').check();
    await page
      .getByLabel('What did you think?')
      .fill('Clear and short. The events lesson was the best part.');
    await page.getByRole('button', { name: 'Save review' }).click();
    await expect.poll(() => page.getByText('Thanks — your review is saved.').isVisible()).toBe(true);
    await page.goto(`/courses/${courseSlug}`);
    expect(await page.getByText('Clear and short.').first().isVisible()).toBe(true);

    await page.goto(`/courses/${courseSlug}/forum`);
    await page.getByLabel('Title').fill('Is a closed ledger really final?');
    await page.getByLabel('Details').fill('What happens on a fork?');
    await Promise.all([
      page.waitForURL(/\/forum\/[0-9a-f-]{36}$/),
      page.getByRole('button', { name: 'Post' }).click(),
    ]);
    await page.getByLabel('Your reply').fill('Stellar has no forks: consensus closes each ledger once.');
    await page.getByRole('button', { name: 'Post reply' }).click();
    await expect.poll(() => page.getByText('1 reply').isVisible()).toBe(true);
  });

  it('a verifier opens the QR link and sees the certificate, checked in the browser', async () => {
    const { page } = await newPage(browser, stack.webUrl);
    const credential = (await (await fetch(`${stack.apiUrl}/v1/credentials/${certificateId}`)).json()) as {
      links: { verify: string };
      status: string;
    };
    // The QR code and the PDF point at the site's verification page.
    expect(new URL(credential.links.verify).pathname).toBe(`/verify/${certificateId}`);
    await page.goto(`/verify/${certificateId}`);
    expect(await page.locator('meta[property="og:title"]').getAttribute('content')).toContain(
      'Stellar Foundations',
    );
    // Link previews get a real image of the certificate's state, with a text alternative.
    const ogImage = (await page.locator('meta[property="og:image"]').getAttribute('content'))!;
    expect(ogImage).toMatch(new RegExp(`^${stack.webUrl}/og/certificate-(valid|pending)\\.png$`));
    const image = await fetch(ogImage);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await image.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(await page.locator('meta[property="og:image:alt"]').getAttribute('content')).toMatch(
      /^Starling certificate, (valid|pending confirmation): /,
    );
    // Step 1 recomputes the document hash in the browser and matches the published one.
    await expect.poll(() => page.locator('.step').first().getAttribute('data-state')).toBe('ok');
    if (stack.rpcUrl) {
      expect(await page.getByTestId('status').textContent()).toBe('Valid');
      // Steps 2–4 read the certificate contract's entry from the RPC in the browser and compare it.
      await expect
        .poll(() => page.getByTestId('verdict').textContent(), { timeout: 20_000 })
        .toBe('Independently verified');
      expect(await page.locator('.step[data-state="ok"]').count()).toBe(4);
      await shot(page, 'verify-valid');
    } else {
      expect(await page.getByTestId('status').textContent()).toBe('Pending confirmation');
      await expect.poll(() => page.getByTestId('verdict').textContent()).toBe('Not on chain yet');
      await shot(page, 'verify-pending');
    }

    const json = await fetch(`${stack.webUrl}/verify/${certificateId}`, {
      headers: { accept: 'application/json' },
    });
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(((await json.json()) as { id: string }).id).toBe(certificateId);
    const missing = await fetch(`${stack.webUrl}/verify/00000000-0000-4000-8000-000000000000`, {
      headers: { accept: 'application/json' },
    });
    expect(missing.status).toBe(404);
    await page.goto('/verify/00000000-0000-4000-8000-000000000000');
    expect(await page.getByRole('heading', { name: 'No certificate with this id' }).isVisible()).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  });

  it('catalog, course and verification work without JavaScript', async () => {
    const context = await browser.newContext({ baseURL: stack.webUrl, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/courses');
    await page.getByLabel('Search', { exact: true }).fill('foundations');
    await Promise.all([
      page.waitForURL(/q=foundations/),
      page.getByRole('button', { name: 'Apply' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Stellar Foundations' }).click();
    await page.waitForURL(/\/courses\/stellar-foundations/);
    expect(await page.getByRole('heading', { name: 'Syllabus' }).isVisible()).toBe(true);
    await page.goto('/verify');
    await page
      .getByLabel('Certificate id or link')
      .fill(`please check https://example.test/verify/${certificateId}`);
    await Promise.all([
      page.waitForURL(new RegExp(`/verify/${certificateId}$`)),
      page.getByRole('button', { name: 'Verify' }).click(),
    ]);
    expect(['Valid', 'Pending confirmation']).toContain(await page.getByTestId('status').textContent());
    await context.close();
  });

  it('an admin revokes it and the verifier sees it revoked, with date and reason', async () => {
    const { page: admin } = await newPage(browser, stack.webUrl);
    await signIn(admin, 'admin@starling.local');
    await admin.goto(`/verify/${certificateId}`);
    await admin.getByLabel('Reason (shown to verifiers)').fill('Academic misconduct found on review');
    await admin.getByRole('button', { name: 'Revoke certificate' }).click();
    await expect.poll(() => admin.getByTestId('status').textContent()).toBe('Revoked');

    const { page } = await newPage(browser, stack.webUrl);
    await page.goto(`/verify/${certificateId}`);
    expect(await page.getByTestId('status').textContent()).toBe('Revoked');
    expect(await page.getByText('Academic misconduct found on review').first().isVisible()).toBe(true);
    expect(await page.locator('meta[property="og:image"]').getAttribute('content')).toBe(
      `${stack.webUrl}/og/certificate-revoked.png`,
    );
    if (stack.rpcUrl) {
      // Once the revocation is on chain, the browser's own read of the contract shows it too.
      await expect
        .poll(
          async () => {
            await page.reload();
            await page.getByTestId('verdict').waitFor();
            return page.locator('.step').nth(3).textContent();
          },
          { timeout: 90_000, interval: 1500 },
        )
        .toMatch(/Revoked on chain in ledger \d+/);
      expect(await page.getByTestId('verdict').textContent()).toBe('Revoked on chain');
    }
    await shot(page, 'verify-revoked');
  });

  it('signs out, and the session cookies are gone', async () => {
    const page = (globalThis as { learnerPage?: Page }).learnerPage!;
    await page.goto('/dashboard');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    expect((await page.context().cookies()).filter((c) => c.name.startsWith('sl_'))).toEqual([]);
    await page.goto('/dashboard');
    expect(new URL(page.url()).pathname).toBe('/signin');
  });
});
