/**
 * Apache Kafka in KRaft mode (one node, broker + controller), run from the Maven Central jars that
 * tools/maven/kafka/pom.xml downloads once into the cache folder.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type Engine, type StackConfig, StackError } from './config';
import { livePid, runOk, spawnDetached, stopDetached, which } from './process';

export const KAFKA_VERSION = '3.9.1';

function paths(cfg: StackConfig) {
  const dir = path.join(cfg.runDir, 'kafka');
  const home = path.join(cfg.cacheDir, `kafka-${KAFKA_VERSION}`);
  return {
    dir,
    data: path.join(dir, 'data'),
    logsDir: path.join(dir, 'logs'), // log4j output (server.log, controller.log)
    stdout: path.join(dir, 'kafka.out'), // JVM stdout/stderr
    properties: path.join(dir, 'server.properties'),
    log4j: path.join(dir, 'log4j.properties'),
    pidFile: path.join(dir, 'kafka.pid'),
    /** identifies our broker in /proc/<pid>/cmdline */
    match: `kafka.Kafka ${path.join(dir, 'server.properties')}`,
    libs: path.join(home, 'libs'),
    marker: path.join(home, '.complete'),
    pom: path.join(cfg.repoRoot, 'tools', 'maven', 'kafka', 'pom.xml'),
  };
}

function java(): string {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const bin = fromHome && fs.existsSync(fromHome) ? fromHome : which('java');
  if (!bin) {
    throw new StackError(
      'Java (11 or newer) is needed to run Kafka: install a JRE (e.g. `apt-get install openjdk-17-jre-headless`), or set KAFKA_BROKERS to an existing broker.',
    );
  }
  return bin;
}

/** Downloads the broker jars with Maven unless the cache already has them. */
async function ensureJars(cfg: StackConfig, log: (m: string) => void): Promise<string> {
  const p = paths(cfg);
  if (fs.existsSync(p.marker)) return p.libs;
  const mvn = which('mvn');
  if (!mvn) {
    throw new StackError(
      'Maven (`mvn`) is needed once to download the Kafka jars: install it (e.g. `apt-get install maven`), or set KAFKA_BROKERS to an existing broker.',
    );
  }
  log(`[kafka] downloading Kafka ${KAFKA_VERSION} jars with Maven into ${p.libs}`);
  fs.rmSync(p.libs, { recursive: true, force: true });
  fs.mkdirSync(p.libs, { recursive: true });
  await runOk('mvn dependency:copy-dependencies', mvn, [
    '-q',
    '-B',
    '-f',
    p.pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${p.libs}`,
    '-DincludeScope=runtime',
  ]);
  if (!fs.existsSync(path.join(p.libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new Error(`Maven finished but ${p.libs} has no kafka_2.13-${KAFKA_VERSION}.jar`);
  }
  fs.writeFileSync(p.marker, `${new Date().toISOString()}\n`);
  return p.libs;
}

function serverProperties(cfg: StackConfig): string {
  const p = paths(cfg);
  return [
    '# Written by tools/src/stack/kafka.ts on every `stack up`; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${cfg.kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${cfg.kafkaPort},CONTROLLER://127.0.0.1:${cfg.kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${cfg.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${p.data}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/** reload4j configuration: everything into files under ${kafka.logs.dir}, nothing on the console. */
const LOG4J = `# Written by tools/src/stack/kafka.ts
log4j.rootLogger=INFO, server

log4j.appender.server=org.apache.log4j.RollingFileAppender
log4j.appender.server.File=\${kafka.logs.dir}/server.log
log4j.appender.server.MaxFileSize=50MB
log4j.appender.server.MaxBackupIndex=3
log4j.appender.server.layout=org.apache.log4j.PatternLayout
log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.controller=org.apache.log4j.RollingFileAppender
log4j.appender.controller.File=\${kafka.logs.dir}/controller.log
log4j.appender.controller.MaxFileSize=50MB
log4j.appender.controller.MaxBackupIndex=3
log4j.appender.controller.layout=org.apache.log4j.PatternLayout
log4j.appender.controller.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.logger.kafka.controller=INFO, controller
log4j.additivity.kafka.controller=false
log4j.logger.org.apache.kafka.controller=INFO, controller
log4j.additivity.org.apache.kafka.controller=false
log4j.logger.state.change.logger=INFO, controller
log4j.additivity.state.change.logger=false
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.raft=WARN
`;

/** A Kafka cluster id: 16 random bytes, base64url without padding (what `StorageTool random-uuid` prints). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const kafka: Engine = {
  name: 'kafka',
  startTimeoutMs: 90_000,

  localUrl: (cfg) => `127.0.0.1:${cfg.kafkaPort}`,
  ports: (cfg) => [cfg.kafkaPort, cfg.kafkaControllerPort],
  logFiles: (cfg) => [paths(cfg).stdout, path.join(paths(cfg).logsDir, 'server.log')],

  pid: (cfg) => livePid(paths(cfg).pidFile, paths(cfg).match),

  async start(cfg, log) {
    const p = paths(cfg);
    const javaBin = java();
    const libs = await ensureJars(cfg, log);
    for (const dir of [p.dir, p.data, p.logsDir]) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(p.properties, serverProperties(cfg));
    fs.writeFileSync(p.log4j, LOG4J);
    const jvmLogging = [`-Dlog4j.configuration=file:${p.log4j}`, `-Dkafka.logs.dir=${p.logsDir}`];
    const classpath = ['-cp', path.join(libs, '*')]; // expanded by java, not by a shell

    if (!fs.existsSync(path.join(p.data, 'meta.properties'))) {
      log(`[kafka] formatting KRaft storage in ${p.data}`);
      await runOk('kafka StorageTool format', javaBin, [
        ...jvmLogging,
        ...classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId(),
        '-c',
        p.properties,
      ]);
    }
    log(`[kafka] starting on port ${cfg.kafkaPort} (controller ${cfg.kafkaControllerPort})`);
    return spawnDetached({
      cmd: javaBin,
      args: ['-Xms256m', '-Xmx768m', '-Djava.awt.headless=true', ...jvmLogging, ...classpath, 'kafka.Kafka', p.properties],
      cwd: p.dir,
      logFile: p.stdout,
      pidFile: p.pidFile,
    });
  },

  stop: (cfg, log) => stopDetached('kafka', paths(cfg), log),

  async probe(brokers) {
    const client = new Kafka({
      clientId: 'crm-stack-health',
      brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    const admin = client.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('the cluster reports no brokers');
      await admin.listTopics();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
};
