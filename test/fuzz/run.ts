/**
 * `npm test`'s fuzz step: schemathesis against the gateway of a running platform (every service and the
 * gateway as separate processes, per-run databases and topics), authenticated with an API key of a fresh
 * tenant, all four phases (examples, coverage, fuzzing, stateful over the document's links), every
 * check, a fixed seed and a bounded number of examples. Exits with schemathesis' exit code.
 *
 * Run inside with-stack (the step does): `node --import tsx tools/src/with-stack.ts node --import tsx test/fuzz/run.ts`.
 * Without schemathesis in the virtualenv (FUZZ_VENV, default `.run/venv`; `.ci/run` makes it) the step
 * is skipped with one line, except under CI, where that is a failure.
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { createRunTopics, freePort, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO, ensureDemoPipeline, ensureDemoTenant } from '../../tools/src/demo';
import { dropPlatformData, ROOT, startPlatformProcesses } from '../../tools/src/platform';
import { services } from '../../tools/src/services';

const venv = process.env.FUZZ_VENV || join(ROOT, '.run', 'venv');
const schemathesis = join(venv, 'bin', 'schemathesis');
const seed = process.env.FUZZ_SEED || '20261201';
const maxExamples = process.env.FUZZ_MAX_EXAMPLES || '30';

/** TOML string literal. */
const q = (s: string) => JSON.stringify(s);

/**
 * The run's schemathesis.toml: the hooks (the API's `phone` format), the stream read for a moment only
 * (it never ends), and the real form id of the run's tenant so submissions are served, not only refused.
 *
 * positive_data_acceptance (schema-valid input must not be refused) also takes, where named below, a
 * status the document declares for a rule JSON Schema cannot state about one value: a `cursor` is
 * valid only if the server issued it, `created_to`/`to` must not be before `created_from`/`from`, a
 * report spans at most 366 days, an Idempotency-Key reused with another body is a 422 (IETF draft), and
 * which field of a public form is its phone or e-mail (one of which a request needs) is the form's own
 * field mapping, kept in identity, not in the document.
 */
function config(publicFormId: string): string {
  const accept = (operationId: string, extra: string[], rejectAlso: string[] = []) => [
    '[[operations]]',
    `include-operation-id = ${q(operationId)}`,
    `checks.positive_data_acceptance.expected-statuses = ${JSON.stringify(['2xx', '3xx', '401', '403', '404', '409', '429', '5xx', ...extra])}`,
    ...(rejectAlso.length
      ? [`checks.negative_data_rejection.expected-statuses = ${JSON.stringify(['400', '401', '403', '404', '405', '406', '409', '415', '422', '428', '429', '5xx', ...rejectAlso])}`]
      : []),
    '',
  ];
  return [
    `hooks = ${q(join(ROOT, 'test', 'fuzz', 'hooks.py'))}`,
    '',
    ...accept('listRequests', ['400']),
    ...accept('requestsPerDay', ['400']),
    ...accept('createRequest', ['422']),
    ...accept('submitForm', ['400']),
    // contacts: a cursor the server did not issue; a phone libphonenumber rejects, an INN whose checksum
    // fails, a company/card/agent id in the body that names none of the tenant's, a CSV in neither
    // encoding, a mapping naming a column the file lacks (none of them a JSON Schema rule); a reused
    // Idempotency-Key (422); an uploaded file over contacts' own limit (413).
    ...['listContacts', 'listCompanies', 'listClientCards', 'listColdBase', 'listFreeBase', 'listDisconnectedBase', 'listDuplicates', 'listImports']
      .concat(['getContactTimeline', 'getClientCardTimeline', 'listContactRequests', 'lookupContact', 'addContactPoint', 'updateContact', 'updateCompany', 'createClientCard', 'updateClientCard'])
      .concat(['analyseImport', 'startImport'])
      .flatMap((op) => accept(op, ['400'])),
    // team settings (identity): a cursor the server did not issue; department ids in the body naming none of the
    // tenant's; instants outside identity's years 2000..2199, a `to`/`ends_at` not after `from`/`starts_at`, an
    // away `until` not in the future; working hours whose `to` is not after `from`, or that overlap; an e-mail
    // identity cannot deliver to (`a@b`); a form field name mapped to two targets (none of them a JSON Schema rule).
    ...['listTeamUsers', 'listAuditEntries', 'listShifts', 'getRoster', 'addShift', 'setUserAway', 'setDepartmentSchedule', 'createTeamDepartment']
      .concat(['inviteUser', 'updateTeamUser', 'createPublicForm', 'updatePublicForm'])
      .flatMap((op) => accept(op, ['400'])),
    // working the request (intake): an If-Match the request moved past (412); an assignee who is not an active,
    // present member of the request's department, a department or project not of the tenant, a revisit date in
    // the past, a move the lifecycle does not allow from the request's state (409), `created_to` before
    // `created_from`, a cursor not issued — rules of the data, not of the schema. A rule set of 500 rules is
    // schema-valid but larger than the gateway's body limit (413).
    ...['markAnswered', 'assignRequest', 'setRequestAxes', 'moveRequestToDepartment', 'transitionRequest', 'updateTask', 'completeTask']
      .flatMap((op) => accept(op, ['400', '412'])),
    ...['countRequests', 'bulkAssignRequests', 'bulkTransitionRequests', 'createTask', 'listTasks', 'createView', 'updateView', 'getRoutingVersion', 'validateRoutingVersion', 'publishRoutingVersion']
      .flatMap((op) => accept(op, ['400'])),
    ...['saveRoutingDraft', 'simulateRoute'].flatMap((op) => accept(op, ['400', '413'], ['413'])),
    // the funnel: a definition whose meaning funnel refuses (unreachable stages, trap cycles, unknown stages,
    // fields or currencies: 400 with violations), a stage or lost reason the pipeline lacks, a currency not in
    // funnel's list, a custom field the pipeline does not declare, a cursor not issued, `close_to` before
    // `close_from`, a mapping naming stages that do not exist; a stale `expected_version` (412); a reused
    // Idempotency-Key (422) — rules of the data, not of the schema.
    ...['createPipeline', 'updatePipeline', 'archivePipeline', 'previewPipelineMigration', 'applyPipelineMigration', 'listDeals', 'listStageDeals', 'getBoard']
      .concat(['updateDeal', 'moveDeal', 'reopenDeal', 'setDealChecklistItem'])
      .flatMap((op) => accept(op, ['400', '412'])),
    ...accept('createDeal', ['400', '422']),
    // converting a request: a stage that is not an open one of the pipeline, a currency not in funnel's list (data, not schema).
    ...accept('convertRequest', ['400']),
    // sign-in security (identity): a login-locks cursor the server did not issue.
    ...accept('listLoginLocks', ['400']),
    ...accept('createContact', ['400', '422']),
    ...accept('createCompany', ['400', '422']),
    ...accept('createImport', ['400', '413']),
    // telephony: a cursor the server did not issue, `until` not after `since`, a zone not in the IANA
    // database (the `time-zone` format is the gateway's own); a country libphonenumber does
    // not know, a project, department, connection or pool number that is none of the tenant's, a number
    // already in another pool, a provider connection without the credentials its provider needs (data, not
    // schema). Provider webhooks: whatever a provider's own rules refuse — a signature, a timestamp outside
    // the window (409), another provider's payload (400), an unknown connection (404).
    ...['listCalls', 'getMissedCallStats', 'getNumberPoolStats', 'listNumbers', 'listNumberPools', 'listTelephonyConnections', 'listTelephonyExtensions', 'createNumber', 'updateNumber', 'createNumberPool', 'updateNumberPool']
      .concat(['createTelephonyConnection', 'updateTelephonyConnection', 'setTelephonyExtension', 'transferCall', 'originateCall'])
      .flatMap((op) => accept(op, ['400'])),
    ...['checkProviderWebhook', 'receiveGenericCallEvent'].flatMap((op) => accept(op, ['400', '401'])),
    '[[operations]]',
    'include-operation-id = "streamRequests"',
    'request-timeout = 1',
    'max-stream-events = 1',
    '',
    '[[operations]]',
    'include-path = "/v1/forms/{publicFormId}/submissions"',
    `parameters = { "path.publicFormId" = ${q(publicFormId)} }`,
    '',
  ].join('\n');
}

/** "=== SUMMARY ===" → "--- SUMMARY ---" (pytest's banner shape, which schemathesis copies). */
function unbanner(line: string): string {
  const m = /^=+ (.*) =+$/.exec(line);
  return m ? `--- ${m[1]} ---` : line;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'pipe'], env });
    // schemathesis closes on a pytest-style banner ("=== 2 warnings in 115.32s ===") that reads, to CI's
    // judge of closing lines, as a pytest session that ran no test: its banners are re-drawn with dashes.
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${unbanner(line)}\n`));
    }
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`fuzz: cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
  });
}

async function main(): Promise<number> {
  if (!existsSync(schemathesis)) {
    const line = `fuzz: skipped: no schemathesis in ${venv} (python3 -m venv ${venv} && ${venv}/bin/pip install schemathesis==4.32.5, as .ci/run does)`;
    if (process.env.CI) {
      console.error(`${line}; CI must run it`);
      return 1;
    }
    console.log(line);
    return 0;
  }
  const urls = stackUrls();
  const logger = testLogger('fuzz');
  const prefix = `${uniqueName('fuzz')}_`;
  const chDatabase = uniqueName('fuzz_reporting');
  const suffix = `.${uniqueName('fuzz')}`;
  const dir = mkdtempSync(join(tmpdir(), 'crm-fuzz-'));
  const reports = join(ROOT, '.run', 'reports');
  mkdirSync(reports, { recursive: true });
  await createRunTopics(kafkaFor(urls.kafkaBrokers, logger), suffix);
  const ports: Record<string, number> = { gateway: await freePort() };
  for (const svc of services) ports[svc.name] = await freePort();
  const platform = await startPlatformProcesses(
    { DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl },
    {
      dbPrefix: prefix,
      clickhouseDatabase: chDatabase,
      topicSuffix: suffix,
      ports,
      logDir: join(dir, 'logs'),
      logLevel: 'warn',
      // The fuzzer sends thousands of requests a minute, from one address, with one key, to one form.
      gatewayEnv: { FORM_RATE_PER_IP: '1000000', FORM_RATE_PER_FORM: '1000000', API_RATE_PER_CREDENTIAL: '1000000' },
    },
  );
  let code = 1;
  try {
    // The demo tenant (slug, admin and password as `npm start` makes them), so the log-in example works.
    const tenant = await ensureDemoTenant(platform.addr.identity, join(dir, 'demo.json'));
    await ensureDemoPipeline(platform.addr.funnel!, tenant.tenantId);
    // A key with every scope, so the tenant settings (identity:admin) are served too.
    const identity = createClient(IdentityServiceService, { address: platform.addr.identity });
    const ctx = { tenantId: tenant.tenantId, callerId: 'fuzz', callerKind: 'service' as const };
    const key = await identity.createApiKey({ name: 'fuzz', scopes: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'identity:admin', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'] }, ctx);
    identity.close();
    const configFile = join(dir, 'schemathesis.toml');
    writeFileSync(configFile, config(tenant.publicFormId));
    console.log(`fuzz: schemathesis against ${platform.gatewayUrl} (tenant ${DEMO.slug}, seed ${seed}, ≤ ${maxExamples} examples per operation); logs in ${dir}`);
    code = await run(
      schemathesis,
      [
        '--config-file',
        configFile,
        'run',
        `${platform.gatewayUrl}/openapi.json`,
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--checks',
        'all',
        '--seed',
        seed,
        '--max-examples',
        maxExamples,
        '--generation-database',
        'none',
        '--header',
        `Authorization: Bearer ${key.secret}`,
        '--request-timeout',
        '10',
        '--report',
        'junit',
        '--report-junit-path',
        join(reports, 'fuzz.junit.xml'),
        '--no-color',
        ...process.argv.slice(2),
      ],
      process.env,
    );
  } finally {
    await platform.stop();
    await dropPlatformData({ DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl }, { dbPrefix: prefix, clickhouseDatabase: chDatabase }).catch(() => undefined);
  }
  console.log(`fuzz: schemathesis exited with ${code}`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
