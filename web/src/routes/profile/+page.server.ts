import { fail } from '@sveltejs/kit';
import { ApiError, formFailure, type Me } from '$lib/api';
import { act, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

interface Referrals {
  referral_code: string;
  referral_link: string;
  referrals: { id: string; display_name: string; joined_at: string }[];
}

export const load: PageServerLoad = async (event) => {
  const me = await requireUser(event);
  const [referrals, mfa] = await Promise.all([
    event.locals.api.get<Referrals>('/v1/me/referrals').catch(() => null),
    event.locals.api
      .get<{ enabled: boolean; recovery_codes_left: number }>('/v1/me/mfa')
      .catch(() => ({ enabled: me.mfa_enabled, recovery_codes_left: 0 })),
  ]);
  return { me, referrals, mfa };
};

export const actions: Actions = {
  profile: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch<Me>('/v1/me', {
        display_name: text(form, 'display_name'),
        bio: text(form, 'bio'),
      });
      return { saved: 'profile' as const };
    });
  },
  mfaSetup: async ({ locals }) =>
    act(null, async () => {
      const s = await locals.api.post<{ secret: string; otpauth_uri: string; qr_data_url: string }>(
        '/v1/me/mfa/setup',
      );
      return { setup: { secret: s.secret, qr: s.qr_data_url, uri: s.otpauth_uri } };
    }),
  mfaEnable: async ({ locals, request }) => {
    const form = await request.formData();
    const setup = { secret: text(form, 'secret'), qr: text(form, 'qr'), uri: text(form, 'uri') };
    try {
      const r = await locals.api.post<{ recovery_codes: string[] }>('/v1/me/mfa/enable', {
        code: text(form, 'code').replace(/\s+/g, ''),
      });
      return { recovery: r.recovery_codes };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const f = formFailure(e.problem);
      // Keep the QR code on screen so the learner can try the next code.
      return fail(e.status, {
        error: f.message,
        fields: f.fields,
        setup: setup.qr.startsWith('data:image/') ? setup : null,
      });
    }
  },
  mfaDisable: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post('/v1/me/mfa/disable', { code: text(form, 'code').replace(/\s+/g, '') });
      return { saved: 'mfa-off' as const };
    });
  },
};
