#!/usr/bin/env node
// Local infrastructure without Docker: a single-node Apache Kafka broker (KRaft, combined
// broker+controller) run from the official jars that Maven resolves from Maven Central, and the
// project's Postgres database on the local server.
//
//   node scripts/infra.js up|down|status
//
// Env: KAFKA_VERSION (3.9.1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (port+1),
//      INFRA_DIR (.infra), KAFKA_JAR_CACHE (~/.cache/wdt-kingdee-sync), DATABASE_URL,
//      KAFKA_HEAP (-Xms256m -Xmx768m).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const kafkaVersion = process.env.KAFKA_VERSION || '3.9.1';
const port = Number(process.env.KAFKA_PORT || 9092);
const controllerPort = Number(process.env.KAFKA_CONTROLLER_PORT || port + 1);
const infraDir = path.resolve(root, process.env.INFRA_DIR || '.infra');
const brokerDir = path.join(infraDir, `kafka-${kafkaVersion}-${port}`);
const dataDir = path.join(brokerDir, 'data');
const pidFile = path.join(brokerDir, 'broker.pid');
const logFile = path.join(brokerDir, 'broker.log');
const propsFile = path.join(brokerDir, 'server.properties');
const jarCache = path.resolve(
  process.env.KAFKA_JAR_CACHE || path.join(os.homedir(), '.cache', 'wdt-kingdee-sync'),
  `kafka-${kafkaVersion}`,
);
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

function log(msg) {
  process.stdout.write(`[infra] ${msg}\n`);
}

function resolveJars() {
  const marker = path.join(jarCache, '.complete');
  if (fs.existsSync(marker)) return jarCache;
  log(`resolving Apache Kafka ${kafkaVersion} broker jars from Maven Central into ${jarCache}`);
  fs.mkdirSync(jarCache, { recursive: true });
  const res = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      path.join(root, 'infra', 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      `-Dkafka.version=${kafkaVersion}`,
      `-DoutputDirectory=${jarCache}`,
    ],
    { stdio: 'inherit' },
  );
  if (res.status !== 0) throw new Error(`mvn could not resolve org.apache.kafka:kafka_2.13:${kafkaVersion}`);
  fs.writeFileSync(marker, new Date().toISOString());
  return jarCache;
}

function java(args, opts = {}) {
  return spawnSync('java', ['-cp', path.join(resolveJars(), '*'), ...args], { encoding: 'utf8', ...opts });
}

function writeProperties() {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': '3',
    'default.replication.factor': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'min.insync.replicas': '1',
    // Topics are provisioned by `npm run topics:provision`, never created on first use.
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
    'log.retention.hours': '720',
    'delete.topic.enable': 'true',
  };
  fs.writeFileSync(
    propsFile,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

function formatStorageIfNeeded() {
  if (fs.existsSync(path.join(dataDir, 'meta.properties'))) return;
  const uuid = java(['kafka.tools.StorageTool', 'random-uuid']);
  const clusterId = (uuid.stdout || '').trim().split('\n').pop();
  if (uuid.status !== 0 || !clusterId) throw new Error(`kafka storage tool failed: ${uuid.stderr}`);
  log(`formatting KRaft storage in ${dataDir} (cluster ${clusterId})`);
  const fmt = java(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile]);
  if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr || fmt.stdout}`);
}

function readPid() {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isOurBroker(pid) {
  if (!pid) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(propsFile);
  } catch {
    return false;
  }
}

function portOpen(p) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: p });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function brokerAnswers(timeoutMs) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'infra-check',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.disconnect();
      if (cluster.brokers.length > 0) return cluster;
    } catch {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

async function ensureDatabase() {
  const { Client } = require('pg');
  const url = new URL(databaseUrl);
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const client = new Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`Postgres unreachable at ${url.host} (DATABASE_URL): ${err.message}`);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
      log(`created database ${dbName}`);
    } else {
      log(`database ${dbName} present on ${url.host}`);
    }
  } catch (err) {
    // Two processes may race to create it; the loser sees 42P04 (duplicate_database).
    if (err.code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

async function up() {
  await ensureDatabase();
  const pid = readPid();
  if (isOurBroker(pid) && (await brokerAnswers(30000))) {
    log(`Kafka ${kafkaVersion} already running on 127.0.0.1:${port} (pid ${pid}); nothing to do`);
    return;
  }
  if (await portOpen(port)) {
    if (await brokerAnswers(5000)) {
      log(`a Kafka broker not started by this script already answers on 127.0.0.1:${port}; using it`);
      return;
    }
    throw new Error(`port ${port} is taken by something that is not a Kafka broker; set KAFKA_PORT`);
  }
  fs.mkdirSync(brokerDir, { recursive: true });
  writeProperties();
  formatStorageIfNeeded();
  const out = fs.openSync(logFile, 'a');
  const heap = (process.env.KAFKA_HEAP || '-Xms256m -Xmx768m').split(/\s+/).filter(Boolean);
  const child = spawn(
    'java',
    [
      ...heap,
      '-XX:+UseG1GC',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j.configuration=file:${path.join(root, 'infra', 'kafka', 'log4j.properties')}`,
      `-Dkafka.logs.dir=${brokerDir}`,
      '-cp',
      path.join(resolveJars(), '*'),
      'kafka.Kafka',
      propsFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  log(`starting Kafka ${kafkaVersion} (pid ${child.pid}), log ${path.relative(root, logFile)}`);
  const cluster = await brokerAnswers(90000);
  if (!cluster) {
    const tail = fs.existsSync(logFile)
      ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')
      : '';
    throw new Error(`Kafka did not answer a metadata request on 127.0.0.1:${port} within 90 s\n${tail}`);
  }
  log(`Kafka ${kafkaVersion} ready on 127.0.0.1:${port} (cluster ${cluster.clusterId})`);
}

async function down() {
  const pid = readPid();
  if (!isOurBroker(pid)) {
    log('no broker started by this script is running');
    fs.rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline && isOurBroker(pid)) await new Promise((r) => setTimeout(r, 250));
  if (isOurBroker(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  log(`stopped Kafka (pid ${pid})`);
}

async function status() {
  const pid = readPid();
  const ours = isOurBroker(pid);
  const cluster = (await portOpen(port)) ? await brokerAnswers(3000) : undefined;
  log(
    `kafka ${kafkaVersion} on 127.0.0.1:${port}: ${cluster ? 'answering' : 'down'}` +
      (ours ? ` (started here, pid ${pid})` : cluster ? ' (not started by this script)' : ''),
  );
  try {
    await ensureDatabase();
  } catch (err) {
    log(err.message);
    process.exitCode = 1;
  }
  if (!cluster) process.exitCode = 1;
}

const commands = { up, down, status };
const cmd = process.argv[2];
if (!commands[cmd]) {
  console.error('usage: node scripts/infra.js up|down|status');
  process.exit(2);
}
commands[cmd]().catch((err) => {
  console.error(`[infra] ${err.message}`);
  process.exit(1);
});
