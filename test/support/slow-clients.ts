/**
 * A slowloris in a child process (its sockets count against its own open-file limit, not the test's):
 * opens COUNT connections to HOST:PORT, on each sends the request line and part of a header, then stalls.
 *
 *   node --import tsx test/support/slow-clients.ts <host> <port> <count> <give-up-ms>
 *
 * Prints one JSON line when every connection is open (`{"event":"open","open":…,"failed":…,"ms":…}`),
 * then one when every open connection was closed by the server or GIVE_UP_MS passed
 * (`{"event":"closed","closed":…,"answered408":…,"stillOpen":…,"ms":…}`, ms since the last one opened),
 * and exits. It never closes a connection itself before giving up.
 */
import { connect, type Socket } from 'node:net';

const [host, portText, countText, giveUpText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const giveUpMs = Number(giveUpText);
const BATCH = 500;

const sockets: Socket[] = [];
let failed = 0;
let closed = 0;
let answered408 = 0;
let openedAt = 0;
let done = false;

function finish(): void {
  if (done) return;
  done = true;
  const stillOpen = sockets.filter((s) => !s.destroyed).length;
  console.log(JSON.stringify({ event: 'closed', closed, answered408, stillOpen, ms: Date.now() - openedAt }));
  for (const s of sockets) s.destroy();
  process.exit(0);
}

function open(): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let first = '';
    s.setNoDelay(true);
    s.once('connect', () => {
      sockets.push(s);
      s.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
      resolve();
    });
    s.on('data', (d) => {
      if (first.length < 16) first += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      if (!sockets.includes(s)) {
        failed++;
        resolve();
        return;
      }
      closed++;
      if (first.startsWith('HTTP/1.1 408')) answered408++;
      if (openedAt && closed === sockets.length) finish();
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < count; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, open));
  openedAt = Date.now();
  const openNow = sockets.filter((s) => !s.destroyed).length;
  console.log(JSON.stringify({ event: 'open', open: openNow, connected: sockets.length, failed, ms: openedAt - started }));
  if (closed === sockets.length) finish();
  setTimeout(finish, giveUpMs);
}

void main();
