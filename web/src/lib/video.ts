// Lesson videos: YouTube and Vimeo links play in their privacy-friendly embeds (allowed by the CSP's
// frame-src); any other https URL plays in a <video> element.
export function embedUrl(url: string): { kind: 'iframe' | 'video'; src: string } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:') return null;
  const host = u.hostname.replace(/^www\./, '');
  if (host === 'youtube.com' || host === 'm.youtube.com') {
    const id =
      u.searchParams.get('v') ?? (u.pathname.startsWith('/embed/') ? u.pathname.split('/')[2] : null);
    if (id && /^[\w-]{6,20}$/.test(id))
      return { kind: 'iframe', src: `https://www.youtube-nocookie.com/embed/${id}` };
  }
  if (host === 'youtu.be') {
    const id = u.pathname.slice(1);
    if (/^[\w-]{6,20}$/.test(id))
      return { kind: 'iframe', src: `https://www.youtube-nocookie.com/embed/${id}` };
  }
  if (host === 'vimeo.com' && /^\/\d+$/.test(u.pathname))
    return { kind: 'iframe', src: `https://player.vimeo.com/video${u.pathname}` };
  return { kind: 'video', src: u.toString() };
}
