import adapter from '@sveltejs/adapter-node';

// Where the browser may connect: this origin (the notifications socket is proxied here) and the
// Stellar RPC the verification page reads directly, so a verifier need not trust our server.
const rpcOrigins = (process.env.PUBLIC_STELLAR_RPC_URL ?? 'http://127.0.0.1:8000')
  .split(',')
  .map((u) => new URL(u.trim()).origin);

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
        'connect-src': ['self', ...rpcOrigins],
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
