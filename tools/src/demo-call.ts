/**
 * npm run demo:call [-- <ringing|answered|ended|missed> [extension] [caller]] — sends one signed generic
 * webhook event to the demo PBX connection `npm start` made (its id and signing secret are in the run
 * folder's demo-telephony.json), as a PBX would: `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256>` over `id.timestamp.body`. Log in as the user of the
 * extension (101: the demo admin, 102: Sergey Seller) and `ringing` pops the call card; `answered`,
 * `ended` or `missed` follow the same call (the call id is kept in the run folder between invocations).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoTelephony } from './demo-telephony';
import { loadConfig } from './stack';

const KINDS = ['ringing', 'answered', 'ended', 'missed'] as const;

async function main(): Promise<void> {
  const [kind = 'ringing', extension = '101', caller = '+79991234567'] = process.argv.slice(2);
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`the event is one of ${KINDS.join(', ')}`);
  const runDir = loadConfig().runDir;
  const file = join(runDir, 'demo-telephony.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm start first`);
  const demo = JSON.parse(readFileSync(file, 'utf8')) as DemoTelephony;
  const callFile = join(runDir, 'demo-call-id');
  // A new call on ringing; the others continue the last one.
  const callId = kind === 'ringing' || !existsSync(callFile) ? `demo-${randomUUID()}` : readFileSync(callFile, 'utf8').trim();
  writeFileSync(callFile, callId);
  const event = {
    type: `call.${kind}`,
    call_id: callId,
    at: new Date().toISOString(),
    direction: 'inbound',
    caller,
    callee: demo.number,
    ...(kind === 'ringing' ? { extensions: [extension] } : { extension }),
    ...(kind === 'ended' ? { disposition: 'answered', talk_seconds: 42, duration_seconds: 50 } : {}),
  };
  const body = JSON.stringify(event);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(demo.signingSecret.replace(/^whsec_/, ''), 'base64');
  const signature = `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
  const url = `http://localhost:${process.env.CRM_HTTP_PORT ?? 8080}/webhooks/telephony/${demo.connectionId}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature }, body });
  console.log(`POST ${url} ${event.type} (call ${callId}, extension ${extension}, caller ${caller}) → ${res.status} ${await res.text()}`);
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
