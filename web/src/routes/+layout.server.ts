import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals }) => {
  const me = await locals.user().catch(() => null);
  return {
    user: me ? { id: me.id, display_name: me.display_name, role: me.role } : null,
  };
};
