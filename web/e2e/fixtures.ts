// Data the browser tests start from: the demo course and accounts (through the real API), and roles
// set the way an operator bootstraps them (directly in the database).
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, seedDemo } from '../../ops/start/seed.ts';
import type { Stack } from './stack.ts';

export const PASSWORD = DEMO_PASSWORD;

export async function seed(stack: Stack): Promise<{ courseSlug: string }> {
  return seedDemo(stack.apiUrl, stack.databaseUrl);
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  try {
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 15_000 });
  } catch (e) {
    throw new Error(
      `sign-in as ${email} stayed on ${page.url()}: ${(await page.locator('main').textContent())?.trim().slice(0, 300)}`,
      { cause: e },
    );
  }
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`;
}

/** Signs up through the form; a refusal fails with the message the page showed. */
export async function signUp(
  page: Page,
  name: string,
  email: string,
  password = 'a long enough password',
): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  try {
    await page.waitForURL(/\/courses/, { timeout: 20_000 });
  } catch (e) {
    throw new Error(
      `sign-up as ${email} stayed on ${page.url()}: ${(await page.locator('main').textContent())?.trim().slice(0, 300)}`,
      { cause: e },
    );
  }
}
