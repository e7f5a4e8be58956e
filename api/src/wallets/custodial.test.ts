// Custodial key versioning: new secrets are encrypted under the current version, and secrets written
// under an older key still decrypt after a rotation, for as long as that key stays configured.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '@stellar/stellar-sdk';
import { loadConfig } from '../config.ts';
import { buildTestApp, registerUser, testEnv, type TestApp } from '../test/harness.ts';
import { createWalletCrypto, newCustodialKeypair } from './custodial.ts';

const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
const cryptoFor = (keys: string, version: number) =>
  createWalletCrypto(loadConfig(testEnv({ WALLET_KEYS: keys, WALLET_KEY_VERSION: String(version) })));

describe('custodial key versions', () => {
  const before = cryptoFor(`1:${key1}`, 1);
  const rotated = cryptoFor(`1:${key1},2:${key2}`, 2);
  const owner = randomUUID();
  const { secret } = newCustodialKeypair();

  it('encrypts under the current version and still decrypts what the old key wrote', () => {
    const old = before.encrypt(owner, secret);
    expect(old).toMatch(/^v1\./);
    const fresh = rotated.encrypt(owner, secret);
    expect(fresh).toMatch(/^v2\./);
    expect(rotated.decrypt(owner, old)).toBe(secret);
    expect(rotated.decrypt(owner, fresh)).toBe(secret);
    // Version 2 really is the second key: the first alone cannot open it.
    expect(() => before.decrypt(owner, fresh)).toThrow(/no wallet key for version 2/);
    const onlyKey2 = cryptoFor(`2:${key2}`, 2);
    expect(onlyKey2.decrypt(owner, fresh)).toBe(secret);
    expect(() => onlyKey2.decrypt(owner, old)).toThrow(/no wallet key for version 1/);
  });

  it('refuses a relabelled version, another owner, or a current version without a key', () => {
    const fresh = rotated.encrypt(owner, secret);
    expect(() => rotated.decrypt(owner, fresh.replace(/^v2\./, 'v1.'))).toThrow();
    expect(() => rotated.decrypt(randomUUID(), fresh)).toThrow();
    expect(() => cryptoFor(`1:${key1}`, 2)).toThrow(/no key for WALLET_KEY_VERSION 2/);
  });
});

describe('registration after a rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { WALLET_KEYS: `1:${key1},2:${key2}`, WALLET_KEY_VERSION: '2' } });
  });
  afterAll(async () => t.close());

  it('stores the new custodial secret under key 2', async () => {
    const u = await registerUser(t.app);
    const row = await t.ctx.db
      .selectFrom('custodial_wallets')
      .selectAll()
      .where('user_id', '=', u.userId)
      .executeTakeFirstOrThrow();
    expect(row.secret_ciphertext).toMatch(/^v2\./);
    const secret = cryptoFor(`2:${key2}`, 2).decrypt(u.userId, row.secret_ciphertext);
    expect(Keypair.fromSecret(secret).publicKey()).toBe(row.public_key);
  });
});
