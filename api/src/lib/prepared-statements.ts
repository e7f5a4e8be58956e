// SQL that starts with /*stmt:<name>*/ is sent as a named prepared statement: Postgres parses and
// plans it once per connection instead of on every call. Opt-in per statement, for hot paths whose
// planning costs several times their execution (lesson completion); the text behind a name never
// changes (values are parameters), which node-postgres requires.
import type pg from 'pg';

const MARK = /^\/\*stmt:([a-z][a-z0-9_]{0,62})\*\//;

export function enablePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string' && Array.isArray(values)) {
        const name = MARK.exec(config)?.[1];
        if (name) return query({ name, text: config, values }, callback);
      }
      return query(config, values, callback);
    };
  });
}
