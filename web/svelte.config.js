import adapter from '@sveltejs/adapter-node';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    adapter: adapter({ out: 'build', precompress: true }),
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self'],
        // Progress bars set their width inline; no script can be smuggled through a style attribute.
        'style-src-attr': ['unsafe-inline'],
        'img-src': ['self', 'data:', 'https:'],
        'media-src': ['self', 'https:'],
        'frame-src': ['https://www.youtube-nocookie.com', 'https://player.vimeo.com'],
        // Any HTTPS Stellar RPC the verifier chooses; hooks.server.ts adds the configured one (may be http).
        'connect-src': ['self', 'https:'],
        'font-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['none'],
      },
    },
    csrf: { trustedOrigins: [] },
  },
};

export default config;
