// API keys: `stk_<prefix>_<secret>`. The prefix finds the row; only SHA-256 of the 256-bit secret is
// stored (a slow hash buys nothing for a random key) and it is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { notFound, unauthorized } from '../errors.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal, Scope } from '../auth/principal.ts';
import {
  findApiKeyByPrefix,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from './api-keys.repository.ts';

const KEY_PATTERN = /^stk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function isApiKey(token: string): boolean {
  return token.startsWith('stk_');
}

export function toApiKey(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as Scope[],
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export function createApiKeysService(ctx: AppContext) {
  return {
    async create(actor: Principal, input: { name: string; scopes: Scope[] }, requestId: string) {
      const prefix = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const row = await ctx.db.transaction().execute(async (trx) => {
        const created = await insertApiKey(trx, {
          name: input.name,
          prefix,
          keyHash: hashSecret(secret),
          scopes: [...new Set(input.scopes)],
          createdBy: actor.kind === 'user' ? actor.userId : actor.createdBy,
        });
        await recordAudit(trx, {
          actor,
          action: 'api_key.created',
          targetType: 'api_key',
          targetId: created.id,
          requestId,
          data: { name: input.name, scopes: created.scopes },
        });
        return created;
      });
      return { ...toApiKey(row), key: `stk_${prefix}_${secret}` };
    },

    list: async () => (await listApiKeys(ctx.db)).map(toApiKey),

    async revoke(actor: Principal, id: string, requestId: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const revoked = await revokeApiKey(trx, id);
        if (!revoked) throw notFound('api_key_not_found', 'No active API key with that id.');
        await recordAudit(trx, {
          actor,
          action: 'api_key.revoked',
          targetType: 'api_key',
          targetId: id,
          requestId,
        });
      });
    },

    async authenticate(token: string): Promise<Principal> {
      const match = KEY_PATTERN.exec(token);
      if (!match) throw unauthorized('invalid_api_key', 'The API key is malformed.');
      const row = await findApiKeyByPrefix(ctx.db, match[1]!);
      const presented = hashSecret(match[2]!);
      // Compare even when the row is missing so timing does not reveal which prefixes exist.
      const stored = row?.key_hash ?? Buffer.alloc(32);
      if (!timingSafeEqual(stored, presented) || !row)
        throw unauthorized('invalid_api_key', 'The API key is not valid.');
      if (row.revoked_at) throw unauthorized('api_key_revoked', 'The API key has been revoked.');
      await touchApiKey(ctx.db, row.id);
      return { kind: 'api_key', keyId: row.id, scopes: row.scopes as Scope[], createdBy: row.created_by };
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
