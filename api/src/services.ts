import type { AppContext } from './context.ts';
import type { TokenService } from './auth/tokens.ts';
import { createAuthService } from './auth/auth.service.ts';
import { createUsersService } from './users/users.service.ts';
import { createMfaService } from './mfa/mfa.service.ts';
import { createKycService } from './kyc/kyc.service.ts';
import { createManualReviewProvider } from './kyc/kyc.provider.ts';
import { createApiKeysService } from './api-keys/api-keys.service.ts';
import { createSep10Service } from './sep10/sep10.service.ts';
import { createCatalogCache } from './catalog/catalog.cache.ts';
import { createCatalogService } from './catalog/catalog.service.ts';
import { createCoursesService } from './courses/courses.service.ts';
import { createEnrolmentsService } from './enrolments/enrolments.service.ts';
import { createReviewsService } from './reviews/reviews.service.ts';
import { createForumsService } from './forums/forums.service.ts';

export function createServices(ctx: AppContext, tokens: TokenService) {
  const catalogCache = createCatalogCache(ctx);
  const auth = createAuthService(ctx, tokens);
  return {
    auth,
    users: createUsersService(ctx, catalogCache),
    mfa: createMfaService(ctx),
    kyc: createKycService(ctx, createManualReviewProvider()),
    apiKeys: createApiKeysService(ctx),
    sep10: createSep10Service(ctx, tokens, auth),
    courses: createCoursesService(ctx, catalogCache),
    catalog: createCatalogService(ctx, catalogCache),
    enrolments: createEnrolmentsService(ctx),
    reviews: createReviewsService(ctx, catalogCache),
    forums: createForumsService(ctx),
  };
}

export type Services = ReturnType<typeof createServices>;
