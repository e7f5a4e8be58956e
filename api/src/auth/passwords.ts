// Argon2id with OWASP's minimum: 19 MiB, 2 iterations, parallelism 1.
import argon2 from 'argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Burns the same time as a real check, so unknown emails cannot be told apart by timing. */
  verifyDummy(password: string): Promise<void>;
}

export function createPasswordHasher(memoryKiB: number): PasswordHasher {
  const options = { type: argon2.argon2id, memoryCost: memoryKiB, timeCost: 2, parallelism: 1 } as const;
  const dummy = argon2.hash('starling-timing-equaliser', options);
  return {
    hash: (password) => argon2.hash(password, options),
    verify: (hash, password) => argon2.verify(hash, password),
    async verifyDummy(password) {
      await argon2.verify(await dummy, password);
    },
  };
}
