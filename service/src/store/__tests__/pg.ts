/**
 * PostgreSQL for tests: each suite gets a schema of its own with a random name and drops it
 * afterwards. If the server is not reachable the suite fails with a message saying how to
 * start it — it is never skipped silently.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.SOVRA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  schema: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestSchema(prefix = 'sovra_t'): Promise<TestSchema> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(err as Error).message}). ` +
        'The PostgreSQL store contract tests need it: run `sudo bash scripts/ci/postgres.sh` (CI runs it), ' +
        'or point SOVRA_TEST_PG_URL at a server with trust auth.',
      { cause: err },
    );
  }
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return {
    schema,
    url: PG_URL,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}
