import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '@tools/devstack';

/**
 * A throw-away Kafka broker with a SASL_SSL client listener, for the security tests: its own CA and
 * broker certificate made with `openssl` at start, a PEM key store, SCRAM users added when the storage
 * is formatted and PLAIN users in the listener's JAAS config. Run from the same jars as the local
 * broker (scripts/infra.js resolves them before the integration tests start).
 */
export interface SecureKafka {
  /** SASL_SSL bootstrap address (127.0.0.1:port). */
  bootstrap: string;
  /** PEM file of the CA that signed the broker certificate. */
  caFile: string;
  users: {
    plain: { username: string; password: string };
    scram256: { username: string; password: string };
    scram512: { username: string; password: string };
  };
  logFile: string;
  stop(): Promise<void>;
}

const KAFKA_VERSION = process.env.KAFKA_VERSION || '3.9.1';
const jarDir = path.resolve(
  process.env.KAFKA_JAR_CACHE || path.join(homedir(), '.cache', 'wdt-kingdee-sync'),
  `kafka-${KAFKA_VERSION}`,
);
const root = path.resolve(__dirname, '../..');

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** CA, then a broker key and certificate for 127.0.0.1/localhost signed by it (PKCS#8 PEM). */
function makeCertificates(dir: string): { caFile: string; keystoreFile: string } {
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'].concat([
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=wdt-kingdee test CA',
    ]),
    dir,
  );
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr'].concat([
      '-subj',
      '/CN=localhost',
    ]),
    dir,
  );
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'broker.crt',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]),
    dir,
  );
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'broker.key', '-out', 'broker.pk8'], dir);
  // Kafka's PEM key store: the private key followed by the certificate chain in one file.
  const keystoreFile = path.join(dir, 'broker-keystore.pem');
  writeFileSync(
    keystoreFile,
    readFileSync(path.join(dir, 'broker.pk8'), 'utf8') +
      readFileSync(path.join(dir, 'broker.crt'), 'utf8') +
      readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
  );
  return { caFile: path.join(dir, 'ca.crt'), keystoreFile };
}

function java(args: string[]): string {
  return execFileSync('java', ['-cp', path.join(jarDir, '*'), ...args], { encoding: 'utf8', stdio: 'pipe' });
}

export async function startSecureKafka(): Promise<SecureKafka> {
  if (!existsSync(path.join(jarDir, '.complete')))
    throw new Error(`Kafka jars missing in ${jarDir}: run npm run infra:up once`);
  const dir = mkdtempSync(path.join(tmpdir(), 'secure-kafka-'));
  const { caFile, keystoreFile } = makeCertificates(dir);
  const [saslPort, internalPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const users = {
    plain: { username: 'plain-user', password: 'plain-pass-1' },
    scram256: { username: 'scram256-user', password: 'scram256-pass-1' },
    scram512: { username: 'scram512-user', password: 'scram512-pass-1' },
  };
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `SASL_SSL://127.0.0.1:${saslPort},INTERNAL://127.0.0.1:${internalPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `SASL_SSL://127.0.0.1:${saslPort},INTERNAL://127.0.0.1:${internalPort}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'INTERNAL',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_${users.plain.username}="${users.plain.password}";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystoreFile,
    'log.dirs': dataDir,
    'num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '3',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
  };
  const propsFile = path.join(dir, 'server.properties');
  writeFileSync(
    propsFile,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
  const clusterId = java(['kafka.tools.StorageTool', 'random-uuid']).trim().split('\n').pop()!;
  java([
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propsFile,
    '--add-scram',
    `SCRAM-SHA-256=[name=${users.scram256.username},password=${users.scram256.password}]`,
    '--add-scram',
    `SCRAM-SHA-512=[name=${users.scram512.username},password=${users.scram512.password}]`,
  ]);
  const logFile = path.join(dir, 'broker.log');
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xms128m',
      '-Xmx384m',
      '-XX:+UseG1GC',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j.configuration=file:${path.join(root, 'infra', 'kafka', 'log4j.properties')}`,
      '-cp',
      path.join(jarDir, '*'),
      'kafka.Kafka',
      propsFile,
    ],
    { stdio: ['ignore', out, out] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const broker: SecureKafka = {
    bootstrap: `127.0.0.1:${saslPort}`,
    caFile,
    users,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready once an authenticated client gets metadata over TLS.
  const kafka = new Kafka({
    clientId: 'secure-kafka-check',
    brokers: [broker.bootstrap],
    ssl: { ca: [readFileSync(caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-256', ...users.scram256 },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(
        `secure broker exited: ${readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')}`,
      );
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.disconnect();
      if (cluster.brokers.length > 0) return broker;
    } catch {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await broker.stop();
  throw new Error('secure broker did not answer within 90 s');
}
