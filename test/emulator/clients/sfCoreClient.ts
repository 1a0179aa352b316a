/**
 * Drives @salesforce/core against a running emulator in a plain Node process: JWT login
 * (AuthInfo.create with a private key file), Connection.create, a query, and a
 * StreamingClient subscription replaying retained events (-2). Prints one `RESULT <json>`
 * line. Run by oauth.test.ts/streaming.test.ts: inside jest's VM, AuthInfo's persisted-auth
 * file lock (proper-lockfile, 10 s stale) stalls each save for ~10 s, outside it does not.
 * Input (env): EMU_URL, CLIENT_ID, USERNAME, KEY_FILE, CHANNEL, EXPECT_EVENTS; HOME must be a
 * throwaway directory (AuthInfo saves under ~/.sfdx).
 */
import { AuthInfo, Connection, Org, StreamingClient } from '@salesforce/core';

const need = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`sfCoreClient: env ${k} is required`);
  return v;
};

const authInfo = await AuthInfo.create({
  username: need('USERNAME'),
  oauth2Options: { clientId: need('CLIENT_ID'), privateKeyFile: need('KEY_FILE'), loginUrl: need('EMU_URL') },
});
const fields = authInfo.getFields();
const conn = await Connection.create({ authInfo });
const users = await conn.query<{ Username: string }>(`SELECT Username FROM User WHERE Username = '${need('USERNAME')}'`);
const result: Record<string, unknown> = {
  orgId: fields.orgId,
  instanceUrl: fields.instanceUrl,
  apiVersion: conn.getApiVersion(),
  queriedUsername: users.records[0]?.Username,
};
const channel = process.env.CHANNEL;
if (channel) {
  const expected = Number(process.env.EXPECT_EVENTS ?? '1');
  const org = await Org.create({ connection: conn });
  const received: unknown[] = [];
  const options = new StreamingClient.DefaultOptions(org, channel, (message) => {
    received.push(message);
    return { completed: received.length >= expected, payload: { events: received } as never };
  });
  const client = await StreamingClient.create(options);
  client.replay(-2);
  await client.handshake();
  result.events = await client.subscribe(async () => {});
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
