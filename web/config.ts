// The production entry's settings (server.js), read once from the environment, checked and frozen.
// The SvelteKit app reads its own through `$env` (src/lib/server/config.ts).
export interface ServerConfig {
  /** The API as this server reaches it; `/ws` is relayed to its `/v1/ws`. */
  readonly apiUrl: URL;
  readonly port: number;
  readonly host: string;
}

export function readServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const raw = env.API_URL || 'http://127.0.0.1:3000';
  let apiUrl: URL;
  try {
    apiUrl = new URL(raw);
  } catch {
    throw new Error(`API_URL must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (apiUrl.protocol !== 'http:' && apiUrl.protocol !== 'https:')
    throw new Error(`API_URL must use http or https, got ${apiUrl.protocol}`);
  const port = Number(env.PORT || 5173);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  return Object.freeze({ apiUrl, port, host: env.HOST || '0.0.0.0' });
}
