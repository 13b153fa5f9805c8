#!/usr/bin/env node
// Local infrastructure without Docker: a single-node Apache Kafka broker (KRaft, combined
// broker+controller) run from the official jars that Maven resolves from Maven Central, and the
// project's Postgres database on the local server.
//
//   node scripts/infra.js up|down|status [--brokers 3] [--node <id>] [--signal KILL|TERM]
//
// `--brokers 3` runs a three-node cluster (every node broker+controller, replication 3, min ISR 2,
// no unclean election) on ports 29092/29102/29112 (KAFKA_PORT moves the base), for failover tests;
// with `--node <id>`, up/down start or stop only that node (`--signal KILL` = kill -9).
// Env: KAFKA_VERSION (3.9.1), KAFKA_PORT (9092; 29092 with --brokers 3), KAFKA_CONTROLLER_PORT
//      (port+1), INFRA_DIR (.infra), KAFKA_JAR_CACHE (~/.cache/wdt-kingdee-sync), DATABASE_URL,
//      KAFKA_HEAP (-Xms256m -Xmx768m; -Xms128m -Xmx384m per node of a cluster).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const kafkaVersion = process.env.KAFKA_VERSION || '3.9.1';

function flag(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const brokerCount = Number(flag('--brokers') || 1);
if (![1, 3].includes(brokerCount)) {
  console.error('--brokers takes 1 or 3');
  process.exit(2);
}
const onlyNode = flag('--node') ? Number(flag('--node')) : undefined;
const stopSignal = (flag('--signal') || 'TERM').toUpperCase() === 'KILL' ? 'SIGKILL' : 'SIGTERM';
const clustered = brokerCount > 1;
const port = Number(process.env.KAFKA_PORT || (clustered ? 29092 : 9092));
const infraDir = path.resolve(root, process.env.INFRA_DIR || '.infra');
// The single broker keeps its historical layout (.infra/kafka-<version>-<port>); a cluster gets a
// folder with one sub-folder per node and the cluster id all nodes are formatted with.
const clusterDir = path.join(infraDir, `kafka-${kafkaVersion}-cluster-${port}`);

/** Ports, folders and files of node `id` (1-based). */
function nodeSpec(id) {
  const clientPort = clustered ? port + (id - 1) * 10 : port;
  const controllerPort = clustered ? clientPort + 1 : Number(process.env.KAFKA_CONTROLLER_PORT || port + 1);
  const dir = clustered
    ? path.join(clusterDir, `node-${id}`)
    : path.join(infraDir, `kafka-${kafkaVersion}-${port}`);
  return {
    id,
    clientPort,
    controllerPort,
    dir,
    dataDir: path.join(dir, 'data'),
    pidFile: path.join(dir, 'broker.pid'),
    logFile: path.join(dir, 'broker.log'),
    propsFile: path.join(dir, 'server.properties'),
  };
}
const nodes = Array.from({ length: brokerCount }, (_, i) => nodeSpec(i + 1));
const selected = onlyNode === undefined ? nodes : nodes.filter((n) => n.id === onlyNode);
if (selected.length === 0) {
  console.error(`--node must be between 1 and ${brokerCount}`);
  process.exit(2);
}
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

function writeProperties(node) {
  const rf = String(brokerCount);
  const minIsr = clustered ? '2' : '1';
  const props = {
    'process.roles': 'broker,controller',
    'node.id': String(node.id),
    'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.clientPort},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.clientPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': node.dataDir,
    'num.partitions': '3',
    'default.replication.factor': rf,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'min.insync.replicas': minIsr,
    // An out-of-sync replica never becomes leader: acknowledged writes are never lost.
    'unclean.leader.election.enable': 'false',
    // Topics are provisioned by `npm run topics:provision`, never created on first use.
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
    'log.retention.hours': '720',
    'delete.topic.enable': 'true',
  };
  if (clustered) {
    // Fail over in seconds, not the production defaults' tens of seconds.
    props['broker.session.timeout.ms'] = '6000';
    props['broker.heartbeat.interval.ms'] = '1000';
    props['replica.lag.time.max.ms'] = '10000';
  }
  fs.writeFileSync(
    node.propsFile,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

/** One cluster id for every node of a cluster (kept in the cluster folder), a fresh one for a single broker. */
function clusterId() {
  const idFile = path.join(clusterDir, 'cluster.id');
  if (clustered && fs.existsSync(idFile)) return fs.readFileSync(idFile, 'utf8').trim();
  const uuid = java(['kafka.tools.StorageTool', 'random-uuid']);
  const id = (uuid.stdout || '').trim().split('\n').pop();
  if (uuid.status !== 0 || !id) throw new Error(`kafka storage tool failed: ${uuid.stderr}`);
  if (clustered) {
    fs.mkdirSync(clusterDir, { recursive: true });
    fs.writeFileSync(idFile, id);
  }
  return id;
}

function formatStorageIfNeeded(node) {
  if (fs.existsSync(path.join(node.dataDir, 'meta.properties'))) return;
  const id = clusterId();
  log(`formatting KRaft storage in ${node.dataDir} (cluster ${id})`);
  const fmt = java(['kafka.tools.StorageTool', 'format', '-t', id, '-c', node.propsFile]);
  if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr || fmt.stdout}`);
}

function readPid(node) {
  try {
    const pid = Number(fs.readFileSync(node.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isOurBroker(node, pid) {
  if (!pid) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(node.propsFile);
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

/** Metadata from the node at `clientPort`, once it lists `expectBrokers` brokers. */
async function brokerAnswers(clientPort, timeoutMs, expectBrokers = 1) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'infra-check',
    brokers: [`127.0.0.1:${clientPort}`],
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
      if (cluster.brokers.length >= expectBrokers) return cluster;
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

function startNode(node) {
  fs.mkdirSync(node.dir, { recursive: true });
  writeProperties(node);
  formatStorageIfNeeded(node);
  const out = fs.openSync(node.logFile, 'a');
  const heap = (process.env.KAFKA_HEAP || (clustered ? '-Xms128m -Xmx384m' : '-Xms256m -Xmx768m'))
    .split(/\s+/)
    .filter(Boolean);
  const child = spawn(
    'java',
    [
      ...heap,
      '-XX:+UseG1GC',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j.configuration=file:${path.join(root, 'infra', 'kafka', 'log4j.properties')}`,
      `-Dkafka.logs.dir=${node.dir}`,
      '-cp',
      path.join(resolveJars(), '*'),
      'kafka.Kafka',
      node.propsFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.writeFileSync(node.pidFile, String(child.pid));
  log(
    `starting Kafka ${kafkaVersion}${clustered ? ` node ${node.id}` : ''} (pid ${child.pid}), log ${path.relative(root, node.logFile)}`,
  );
}

async function up() {
  await ensureDatabase();
  const toStart = [];
  for (const node of selected) {
    const pid = readPid(node);
    if (isOurBroker(node, pid)) continue;
    if (await portOpen(node.clientPort)) {
      if (!clustered && (await brokerAnswers(node.clientPort, 5000))) {
        log(`a Kafka broker not started by this script already answers on 127.0.0.1:${port}; using it`);
        return;
      }
      throw new Error(`port ${node.clientPort} is taken by something else; set KAFKA_PORT`);
    }
    toStart.push(node);
  }
  if (toStart.length === 0) {
    const cluster = await brokerAnswers(selected[0].clientPort, 30000, brokerCount);
    if (cluster) {
      log(`Kafka ${kafkaVersion} already running on ${describeNodes(selected)}; nothing to do`);
      return;
    }
  }
  for (const node of toStart) startNode(node);
  // A cluster answers once a quorum of controllers is up and every node has registered.
  for (const node of selected) {
    const cluster = await brokerAnswers(node.clientPort, 120000, brokerCount);
    if (!cluster) {
      const tail = fs.existsSync(node.logFile)
        ? fs.readFileSync(node.logFile, 'utf8').split('\n').slice(-30).join('\n')
        : '';
      throw new Error(
        `Kafka did not answer a metadata request on 127.0.0.1:${node.clientPort} within 120 s\n${tail}`,
      );
    }
    if (node === selected[selected.length - 1])
      log(`Kafka ${kafkaVersion} ready on ${describeNodes(selected)} (cluster ${cluster.clusterId})`);
  }
}

function describeNodes(list) {
  return list.map((n) => `127.0.0.1:${n.clientPort}`).join(',');
}

async function down() {
  for (const node of selected) {
    const pid = readPid(node);
    if (!isOurBroker(node, pid)) {
      log(`no broker started by this script is running${clustered ? ` as node ${node.id}` : ''}`);
      fs.rmSync(node.pidFile, { force: true });
      continue;
    }
    process.kill(pid, stopSignal);
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && isOurBroker(node, pid)) await new Promise((r) => setTimeout(r, 250));
    if (isOurBroker(node, pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(node.pidFile, { force: true });
    log(`stopped Kafka${clustered ? ` node ${node.id}` : ''} (pid ${pid}, ${stopSignal})`);
  }
}

async function status() {
  for (const node of selected) {
    const pid = readPid(node);
    const ours = isOurBroker(node, pid);
    const cluster = (await portOpen(node.clientPort))
      ? await brokerAnswers(node.clientPort, 3000)
      : undefined;
    log(
      `kafka ${kafkaVersion} on 127.0.0.1:${node.clientPort}: ${cluster ? 'answering' : 'down'}` +
        (ours ? ` (started here, pid ${pid})` : cluster ? ' (not started by this script)' : ''),
    );
    if (!cluster) process.exitCode = 1;
  }
  try {
    await ensureDatabase();
  } catch (err) {
    log(err.message);
    process.exitCode = 1;
  }
}

const commands = { up, down, status };
const cmd = process.argv[2];
if (!commands[cmd]) {
  console.error(
    'usage: node scripts/infra.js up|down|status [--brokers 3] [--node <id>] [--signal KILL|TERM]',
  );
  process.exit(2);
}
commands[cmd]().catch((err) => {
  console.error(`[infra] ${err.message}`);
  process.exit(1);
});
