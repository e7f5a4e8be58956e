// The site's production entry: SvelteKit's adapter-node handler, plus one WebSocket route. `/ws` is
// forwarded to the API's `/v1/ws` with the session's access token taken from the httpOnly cookie, so
// the browser gets live notifications without ever holding a token.
import { createServer, request as httpRequest } from 'node:http';
/* global process, URL, URLSearchParams, fetch, console, setTimeout */
import { request as httpsRequest } from 'node:https';
import { handler } from './build/handler.js';
import { readServerConfig } from './config.ts';

const { apiUrl, port, host } = readServerConfig();

function cookie(header, name) {
  for (const part of (header || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

const server = createServer(handler);

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url || '/', 'http://site');
  const token = cookie(req.headers.cookie, 'sl_access');
  if (url.pathname !== '/ws' || !token) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  void connectUpstream(req, socket, head, url, token);
});

/** Trades the session's access token for a single-use WebSocket token, then joins the two sockets. */
async function connectUpstream(req, socket, head, url, token) {
  let wsToken;
  try {
    const res = await fetch(new URL('/v1/auth/ws-token', apiUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) {
      socket.end(
        `HTTP/1.1 ${res.status === 401 ? '401 Unauthorized' : '502 Bad Gateway'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wsToken = (await res.json()).token;
  } catch {
    socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const query = new URLSearchParams({ token: wsToken });
  const after = url.searchParams.get('after');
  if (after && /^(0|[1-9][0-9]{0,17})$/.test(after)) query.set('after', after);
  const headers = { ...req.headers, host: apiUrl.host };
  delete headers.cookie;
  delete headers.authorization;
  const upstream = (apiUrl.protocol === 'https:' ? httpsRequest : httpRequest)({
    protocol: apiUrl.protocol,
    hostname: apiUrl.hostname,
    port: apiUrl.port,
    method: 'GET',
    path: `/v1/ws?${query}`,
    headers,
  });
  upstream.on('upgrade', (res, upSocket, upHead) => {
    const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage}`];
    for (let i = 0; i < res.rawHeaders.length; i += 2)
      lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upHead.length) socket.write(upHead);
    if (head.length) upSocket.write(head);
    upSocket.pipe(socket).pipe(upSocket);
    const close = () => {
      upSocket.destroy();
      socket.destroy();
    };
    upSocket.on('error', close);
    socket.on('error', close);
    upSocket.on('close', close);
    socket.on('close', close);
  });
  upstream.on('response', (res) => {
    socket.end(
      `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
    res.resume();
  });
  upstream.on('error', () =>
    socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
  );
  upstream.end();
}

server.listen(port, host, () => {
  // eslint-disable-next-line no-console -- the one start-up line an operator reads
  console.log(`starling web listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
});

// Stop accepting, let in-flight requests finish, and do not wait on idle keep-alive sockets.
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
