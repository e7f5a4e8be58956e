// The migrations CLI's one setting, read from the environment.
export function readDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (postgres://user:pass@host:port/db)');
  return url;
}
