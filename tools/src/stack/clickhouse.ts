/**
 * ClickHouse from the OS package (Debian's `clickhouse-server`, 18.16 on bookworm), run as our own
 * process with our own config in the run folder; /etc/clickhouse-server and the system service are
 * not used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Engine, type Log, type StackConfig, StackError } from './config';
import { livePid, run, runOk, spawnDetached, stopDetached, which } from './process';

function paths(cfg: StackConfig) {
  const dir = path.join(cfg.runDir, 'clickhouse');
  return {
    dir,
    data: path.join(dir, 'data'),
    log: path.join(dir, 'clickhouse-server.log'),
    errLog: path.join(dir, 'clickhouse-server.err.log'),
    stdout: path.join(dir, 'clickhouse.out'),
    config: path.join(dir, 'config.xml'),
    users: path.join(dir, 'users.xml'),
    pidFile: path.join(dir, 'clickhouse.pid'),
    /** identifies our server in /proc/<pid>/cmdline */
    match: `--config-file=${path.join(dir, 'config.xml')}`,
  };
}

interface Binary {
  cmd: string;
  /** `clickhouse` (the all-in-one binary of the upstream packages) needs the `server` sub-command */
  args: string[];
}

function findBinary(): Binary | undefined {
  const server = which('clickhouse-server', ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server']);
  if (server) return { cmd: server, args: [] };
  const multi = which('clickhouse', ['/usr/bin/clickhouse']);
  return multi ? { cmd: multi, args: ['server'] } : undefined;
}

/** Finds ClickHouse; as root on Debian/Ubuntu installs the `clickhouse-server` package if missing. */
async function ensureInstalled(log: Log): Promise<Binary> {
  const found = findBinary();
  if (found) return found;
  const aptGet = which('apt-get');
  if (process.getuid?.() !== 0 || !aptGet) {
    throw new StackError(
      'ClickHouse is not installed: install the `clickhouse-server` package (e.g. `sudo apt-get install clickhouse-server`), or set CLICKHOUSE_URL to an existing server.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('[clickhouse] installing the clickhouse-server package with apt-get');
  const first = await run(aptGet, ['install', '-y', 'clickhouse-server'], { env });
  if (first.code !== 0) {
    log('[clickhouse] running apt-get update, then retrying');
    await runOk('apt-get update', aptGet, ['update'], { env });
    await runOk('apt-get install clickhouse-server', aptGet, ['install', '-y', 'clickhouse-server'], { env });
  }
  const installed = findBinary();
  if (!installed) throw new Error('apt-get installed clickhouse-server but no clickhouse binary was found');
  return installed;
}

const xml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function configXml(cfg: StackConfig): string {
  const p = paths(cfg);
  const data = (sub: string): string => xml(path.join(p.data, sub) + '/');
  return `<?xml version="1.0"?>
<!-- Written by tools/src/stack/clickhouse.ts on every \`stack up\`; edits are overwritten. -->
<yandex>
  <logger>
    <level>information</level>
    <log>${xml(p.log)}</log>
    <errorlog>${xml(p.errLog)}</errorlog>
    <size>50M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${cfg.clickhouseHttpPort}</http_port>
  <tcp_port>${cfg.clickhouseTcpPort}</tcp_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <!-- Upper bounds of caches allocated on demand; old versions refuse to start without mark_cache_size. -->
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>5368709120</mark_cache_size>
  <path>${data('')}</path>
  <tmp_path>${data('tmp')}</tmp_path>
  <user_files_path>${data('user_files')}</user_files_path>
  <format_schema_path>${data('format_schemas')}</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

/** The `default` user, empty password, from the loopback addresses only. */
const USERS_XML = `<?xml version="1.0"?>
<!-- Written by tools/src/stack/clickhouse.ts on every \`stack up\`; edits are overwritten. -->
<yandex>
  <profiles>
    <default/>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>::1</ip>
        <ip>127.0.0.1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default/>
  </quotas>
</yandex>
`;

/** Splits a URL like http://user:pass@host:8123 into its origin and an Authorization header. */
function parseUrl(url: string): { origin: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    const user = decodeURIComponent(u.username) || 'default';
    const credentials = Buffer.from(`${user}:${decodeURIComponent(u.password)}`).toString('base64');
    headers.Authorization = `Basic ${credentials}`;
  }
  return { origin: u.origin, headers };
}

async function httpGet(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(3_000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}: ${body.trim().slice(0, 300)}`);
  return body;
}

export const clickhouse: Engine = {
  name: 'clickhouse',
  startTimeoutMs: 60_000,

  localUrl: (cfg) => `http://127.0.0.1:${cfg.clickhouseHttpPort}`,
  ports: (cfg) => [cfg.clickhouseHttpPort, cfg.clickhouseTcpPort],
  logFiles: (cfg) => [paths(cfg).stdout, paths(cfg).errLog],

  pid: (cfg) => livePid(paths(cfg).pidFile, paths(cfg).match),

  async start(cfg, log) {
    const p = paths(cfg);
    const bin = await ensureInstalled(log);
    fs.mkdirSync(p.data, { recursive: true });
    fs.writeFileSync(p.config, configXml(cfg));
    fs.writeFileSync(p.users, USERS_XML);
    log(`[clickhouse] starting on http port ${cfg.clickhouseHttpPort} (tcp ${cfg.clickhouseTcpPort})`);
    return spawnDetached({
      cmd: bin.cmd,
      args: [...bin.args, `--config-file=${p.config}`],
      cwd: p.dir,
      logFile: p.stdout,
      pidFile: p.pidFile,
    });
  },

  stop: (cfg, log) => stopDetached('clickhouse', paths(cfg), log),

  async probe(url) {
    const { origin, headers } = parseUrl(url);
    const ping = await httpGet(`${origin}/ping`, {});
    if (ping.trim() !== 'Ok.') throw new Error(`unexpected /ping answer: ${ping.trim().slice(0, 100)}`);
    const one = await httpGet(`${origin}/?query=${encodeURIComponent('SELECT 1')}`, headers);
    if (one.trim() !== '1') throw new Error(`unexpected SELECT 1 answer: ${one.trim().slice(0, 100)}`);
  },
};
