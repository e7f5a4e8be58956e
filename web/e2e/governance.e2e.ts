// Governance in Chromium against the real chain and indexer: a learner signed in with Freighter (a
// stand-in that signs with a test key) delegates their BST to themselves, proposes, votes for, and
// sees the tally once the indexer has ingested the vote; then executes a proposal that passed.
// Reading works without JavaScript.
import { createHash } from 'node:crypto';
import {
  Address,
  Contract,
  Keypair,
  TransactionBuilder,
  nativeToScVal,
  rpc,
  scValToNative,
  xdr,
} from '@stellar/stellar-sdk';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newPage, shot } from './browser.ts';
import { installFreighter } from './freighter.ts';
import type { Stack } from './stack.ts';
import { useSystem } from './suite.ts';

let stack: Stack;
let browser: Browser;
const MINTED = 1_230_000_000n; // 123 BST
const OFFICE_HOURS = 'Hold a one-hour office hour every week for learners of the Soroban course.';

useSystem({}, async (system) => {
  ({ stack, browser } = system);
});

/**
 * Signs and sends one contract call with `key`, returning its result. The local chain's 250 ms
 * ledgers can archive fresh state between simulation and apply: simulate again and resend.
 */
async function invoke(key: Keypair, contractId: string, fn: string, args: xdr.ScVal[]): Promise<unknown> {
  const m = stack.manifest!;
  const server = new rpc.Server(m.rpcUrl, { allowHttp: true });
  for (let attempt = 1; ; attempt++) {
    const draft = new TransactionBuilder(await server.getAccount(key.publicKey()), {
      fee: '100',
      networkPassphrase: m.networkPassphrase,
    })
      .addOperation(new Contract(contractId).call(fn, ...args))
      .setTimeout(60)
      .build();
    const tx = await server.prepareTransaction(draft);
    tx.sign(key);
    const sent = await server.sendTransaction(tx);
    const done = await server.pollTransaction(sent.hash, { attempts: 60 });
    if (done.status === 'SUCCESS') return done.returnValue ? scValToNative(done.returnValue) : undefined;
    if (attempt === 3) throw new Error(`${fn} ${done.status}`);
  }
}

/** Funds `key` through friendbot and mints it BST with the platform key (what a referral reward does). */
async function fundWithBst(key: Keypair): Promise<void> {
  const m = stack.manifest!;
  const res = await fetch(`${m.rpcUrl}/friendbot?addr=${key.publicKey()}`, { method: 'POST' });
  expect(res.ok).toBe(true);
  const server = new rpc.Server(m.rpcUrl, { allowHttp: true });
  const platform = Keypair.fromSecret(m.platform.secret!);
  await invoke(platform, m.contracts.token.contractId, 'mint_reward', [
    new Address(platform.publicKey()).toScVal(),
    new Address(key.publicKey()).toScVal(),
    nativeToScVal(MINTED, { type: 'i128' }),
    nativeToScVal('referral', { type: 'symbol' }),
  ]);
  for (let i = 0; i < 50; i++) {
    if (await server.getAccount(key.publicKey()).catch(() => null)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('governance', () => {
  it('a wallet holder delegates, proposes, votes and executes with Freighter, and sees what the indexer read', async (ctx) => {
    if (!stack.manifest) return ctx.skip();
    const key = Keypair.random();
    await fundWithBst(key);
    const { page } = await newPage(browser, stack.webUrl);
    const signed = await installFreighter(page, key);
    await page.goto('/signin');
    await page.getByRole('button', { name: 'Sign in with Freighter' }).click();
    await page.waitForURL(/\/dashboard/);

    await page.goto('/governance');
    await page.getByRole('button', { name: 'Delegate my votes to myself' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent(), { timeout: 30_000 })
      .toContain('delegated to yourself');
    expect(await page.getByTestId('my-votes').textContent()).toBe('123');

    await page.getByLabel('Title').fill('Weekly Soroban office hours');
    await page.getByLabel('Proposal text').fill(OFFICE_HOURS);
    await page.getByLabel(/Voting period/).fill('2000');
    await page.getByRole('button', { name: 'Propose with Freighter' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent(), { timeout: 30_000 })
      .toContain('Your proposal is on chain');
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByTestId('proposal').count();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'governance');

    await page.getByRole('link', { name: /Weekly Soroban office hours/ }).click();
    await page.waitForURL(/\/governance\/\d+$/);
    expect(await page.getByTestId('hash-check').textContent()).toContain('Matches');
    expect(await page.getByTestId('votes-for').textContent()).toBe('0');
    await page.getByRole('button', { name: 'Vote for' }).click();
    await page.getByTestId('my-vote').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('votes-for').textContent()).toBe('123');
    expect(await page.getByTestId('votes-against').textContent()).toBe('0');
    expect(await page.getByRole('status').first().textContent()).toContain('counted in the tally');
    expect(signed.length).toBeGreaterThanOrEqual(4); // sign-in, delegate, propose, vote
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'governance-proposal');

    // Reading needs neither an account nor JavaScript.
    const ctxNoJs = await browser.newContext({ baseURL: stack.webUrl, javaScriptEnabled: false });
    const anon = await ctxNoJs.newPage();
    await anon.goto(page.url());
    expect(await anon.getByTestId('votes-for').textContent()).toBe('123');
    expect(await anon.getByRole('link', { name: 'Sign in' }).count()).toBeGreaterThan(0);
    // Governance is public, so the site links to it for visitors too.
    expect(
      await anon
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Governance', exact: true })
        .count(),
    ).toBe(1);
    await ctxNoJs.close();

    // A short proposal the holder votes for straight on chain passes once voting closes: the page
    // offers Execute, and shows Executed once the indexer has read the execution.
    const governance = stack.manifest.contracts.governance.contractId;
    const id = (await invoke(key, governance, 'propose', [
      new Address(key.publicKey()).toScVal(),
      nativeToScVal('Start the office hours this month', { type: 'string' }),
      // The text Starling already holds (the first proposal's), so the page can show and check it.
      xdr.ScVal.scvBytes(createHash('sha256').update(OFFICE_HOURS, 'utf8').digest()),
      nativeToScVal(20, { type: 'u32' }),
    ])) as bigint;
    await invoke(key, governance, 'vote', [
      new Address(key.publicKey()).toScVal(),
      nativeToScVal(id, { type: 'u64' }),
      xdr.ScVal.scvBool(true),
    ]);
    await expect
      .poll(
        async () => {
          await page.goto(`/governance/${id}`);
          return (await page.getByTestId('outcome').count())
            ? page.getByTestId('outcome').textContent()
            : null;
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe('Passed');
    await page.getByRole('button', { name: 'Execute' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent(), { timeout: 60_000 })
      .toContain('The proposal is executed on chain.');
    expect(await page.getByTestId('status').textContent()).toBe('Executed');
    expect(await page.getByRole('button', { name: 'Execute' }).count()).toBe(0);
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'governance-executed');
  }, 240_000);
});
