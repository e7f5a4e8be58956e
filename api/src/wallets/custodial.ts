// Custodial wallets for learners without one: AES-256-GCM, a random 12-byte IV, the key version as a
// prefix so keys can rotate, and the owner's id as associated data so a ciphertext cannot be moved to
// another user. The secret is never returned or logged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Keypair } from '@stellar/stellar-sdk';
import type { Config } from '../config.ts';

export interface WalletCrypto {
  encrypt(ownerId: string, secret: string): string;
  decrypt(ownerId: string, ciphertext: string): string;
}

export function createWalletCrypto(config: Pick<Config, 'WALLET_KEYS' | 'WALLET_KEY_VERSION'>): WalletCrypto {
  return {
    encrypt(ownerId, secret) {
      const version = config.WALLET_KEY_VERSION;
      const key = config.WALLET_KEYS.get(version)!;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(ownerId));
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `v${version}.${iv.toString('base64url')}.${Buffer.concat([body, cipher.getAuthTag()]).toString('base64url')}`;
    },
    decrypt(ownerId, ciphertext) {
      const match = /^v(\d+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(ciphertext);
      if (!match) throw new Error('malformed wallet ciphertext');
      const key = config.WALLET_KEYS.get(Number(match[1]));
      if (!key) throw new Error(`no wallet key for version ${match[1]}`);
      const iv = Buffer.from(match[2]!, 'base64url');
      const data = Buffer.from(match[3]!, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(ownerId));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}

export function newCustodialKeypair(): { publicKey: string; secret: string } {
  const kp = Keypair.random();
  return { publicKey: kp.publicKey(), secret: kp.secret() };
}
