/**
 * `npm start`: the whole platform on the local stack. Starts the engines, creates the registry's
 * topics, builds the web UI when needed, runs every service and the gateway as separate processes,
 * creates the demo tenant on first run and prints how to use it. Ctrl+C stops the processes (the
 * engines keep running: `npm run stack:down` stops them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDemoPipeline, ensureDemoTenant } from './demo';
import { ensureDemoTelephony } from './demo-telephony';
import { ROOT, startPlatformProcesses } from './platform';
import { serviceNames } from './services';
import { loadConfig, runningPgSettings, stackUp } from './stack';
import { createRegistryTopics } from './topics-create';

async function main() {
  const info = await stackUp();
  if (!process.env.DATABASE_URL && runningPgSettings(loadConfig()) === 'fast') {
    console.warn('warning: the local PostgreSQL was started by a test run with fsync off; run `npm run stack:down` and `npm start` again for durable data.');
  }
  const env = info.env as { DATABASE_URL: string; KAFKA_BROKERS: string; CLICKHOUSE_URL: string };
  const created = await createRegistryTopics(env.KAFKA_BROKERS.split(','));
  if (created.length) console.log(`topics created: ${created.join(', ')}`);

  if (!existsSync(join(ROOT, 'web', 'dist', 'index.html')) || process.env.CRM_BUILD_WEB === '1') {
    console.log('building the web UI…');
    const r = spawnSync('npm', ['run', '--silent', 'build', '-w', '@crm/web'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('the web UI did not build');
  }

  const runDir = loadConfig().runDir;
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const port = Number(process.env.CRM_HTTP_PORT ?? 8080);
  console.log(`starting ${serviceNames().join(', ')} and the gateway…`);
  const platform = await startPlatformProcesses(env, { logDir, ports: { gateway: port }, logLevel: process.env.LOG_LEVEL ?? 'info' });
  const demo = await ensureDemoTenant(platform.addr.identity, join(runDir, 'demo.json'));
  await ensureDemoPipeline(platform.addr.funnel!, demo.tenantId);
  // The demo's PBX connection, extensions and number; a failure there only leaves them out of the demo.
  const phone = platform.addr.telephony
    ? await ensureDemoTelephony(platform.addr.telephony, platform.addr.identity, demo.tenantId, join(runDir, 'demo-telephony.json')).catch((err: Error) => {
        console.warn(`the demo telephony was not set up: ${err.message}`);
        return undefined;
      })
    : undefined;
  const url = `http://localhost:${port}`;
  console.log(`
Sales 2.0 is running.

  Web UI          ${url}/            tenant "${demo.tenantSlug}", e-mail ${demo.email}, password ${demo.password}
${(demo.team ?? []).map((m) => `                  ${m.role} (${m.department}): e-mail ${m.email}, password ${demo.password}\n`).join('')}  API docs        ${url}/docs        (OpenAPI: ${url}/openapi.json)
  Demo form       ${url}/demo/form?form=${demo.publicFormId}&utm_source=demo&utm_campaign=launch
  API key         ${demo.apiKey}
  Public form id  ${demo.publicFormId}

  curl -H 'Authorization: Bearer ${demo.apiKey}' ${url}/v1/requests
${
  phone
    ? `
  Telephony       generic PBX connection ${phone.connectionId} (signing secret in ${join(runDir, 'demo-telephony.json')}),
                  advertising number ${phone.number}, extensions ${Object.entries(phone.extensions).map(([x, e]) => `${x} → ${e}`).join(', ')}
                  a signed test call (log in as the extension's user to see the card pop):
                  npm run demo:call -- ringing 101    then: npm run demo:call -- answered 101 / ended 101 / missed 101
`
    : ''
}
Logs: ${logDir}. Ctrl+C stops the services; \`npm run stack:down\` stops the engines.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the services…');
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
