import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { loadConnections } from '@libs/connections';
import { SECRET_ENV_VARS, SERVICE_ENV, ServiceName, commonEnv, loadServiceConfig } from '@libs/config';

/**
 * docker-compose.yml read as Compose would (YAML merge keys resolved), without Docker: profiles,
 * restart policies, the one image built once, named volumes, configurable host ports, migrations
 * first, and the production profile's env file and mounts. Each rule returns a list of problems; the
 * last block shows each rule catching the mistake it exists for.
 */

const root = join(__dirname, '../..');
const IMAGE = 'wdt-kingdee-sync:local';
/** The sandbox profile's image: the production build plus the sandboxes and their dev dependencies. */
const SANDBOX_IMAGE = 'wdt-kingdee-sync:sandbox';
const IMAGE_OF: Record<Profile, string> = { production: IMAGE, sandbox: SANDBOX_IMAGE };
const PROFILES = ['sandbox', 'production'] as const;
type Profile = (typeof PROFILES)[number];
const SERVICES = Object.keys(SERVICE_ENV) as ServiceName[];
const MIGRATE: Record<Profile, string> = { sandbox: 'migrate', production: 'migrate-production' };
const MIGRATE_COMMAND = 'node dist/apps/cli/src/migrate.js && node dist/apps/cli/src/provision-topics.js';
const PRODUCTION_ENV = './deploy/compose/production.env';
/** Names of the issue-15 contract that services read once every branch is merged. */
const CONTRACT_ENV = ['KAFKA_SSL_CA_FILE', 'LIVENESS_STALL_SECONDS', 'DATABASE_MIGRATION_URL'];
/** Which services call WDT or Kingdee (they alone get the connections' secrets) or read connections. */
const USES_SECRETS: ServiceName[] = ['extractor', 'loader', 'reconciler'];
const READS_CONNECTIONS: ServiceName[] = [...USES_SECRETS, 'operator'];

interface DependsOn {
  condition?: string;
  required?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  profiles?: string[];
  restart?: string;
  command?: string[] | string;
  environment?: Record<string, unknown>;
  env_file?: Array<string | { path: string; required?: boolean }>;
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, DependsOn>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;

const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
/** The service an app container runs (`dist/apps/<service>/src/main.js`), if it is one of ours. */
const appOf = (s: Service) => /dist\/apps\/([a-z-]+)\/src\/main\.js/.exec(commandOf(s))?.[1];
const isService = (s: Service) => SERVICES.includes(appOf(s) as ServiceName);
const inProfile = (c: Compose, profile: Profile) =>
  Object.entries(c.services).filter(([, s]) => s.profiles?.includes(profile));
/** Long-running containers: everything but the one-shots (migrations, the image build). */
const isOneShot = (name: string, s: Service) =>
  Object.values(MIGRATE).includes(name) || s.build !== undefined;

/** Env file: KEY=VALUE lines, `#` comments. */
function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

// --- the rules -------------------------------------------------------------------------------------

/** Every service in a profile (a plain `up` starts nothing), dependencies inside the same profiles. */
function profileProblems(c: Compose): string[] {
  const p: string[] = [];
  for (const [name, s] of Object.entries(c.services)) {
    if (!s.profiles?.length) p.push(`${name}: no profile (a plain \`docker compose up\` would start it)`);
    for (const profile of s.profiles ?? []) {
      if (!(PROFILES as readonly string[]).includes(profile)) p.push(`${name}: unknown profile ${profile}`);
      for (const dep of Object.keys(s.depends_on ?? {}))
        if (!c.services[dep]?.profiles?.includes(profile))
          p.push(`${name} (${profile}) depends on ${dep}, which is not in ${profile}`);
    }
  }
  for (const profile of PROFILES) {
    const apps = inProfile(c, profile).map(([, s]) => appOf(s));
    for (const service of SERVICES)
      if (apps.filter((a) => a === service).length !== 1)
        p.push(`${profile}: ${service} runs ${apps.filter((a) => a === service).length} times`);
  }
  const production = inProfile(c, 'production').map(([name, s]) => s.image ?? name);
  for (const infra of ['apache/kafka', 'postgres'])
    if (production.some((image) => image.startsWith(infra))) p.push(`production runs its own ${infra}`);
  if (production.some((_, i) => /sandbox/.test(appOf(inProfile(c, 'production')[i][1]) ?? '')))
    p.push('production runs a sandbox');
  return p;
}

/** Long-running services restart after a fatal exit; one-shots do not (Compose waits for their exit). */
function restartProblems(c: Compose): string[] {
  return Object.entries(c.services).flatMap(([name, s]) => {
    if (isOneShot(name, s)) return s.restart === 'no' ? [] : [`${name}: a one-shot needs restart "no"`];
    return ['unless-stopped', 'always', 'on-failure'].includes(s.restart?.split(':')[0] ?? '')
      ? []
      : [`${name}: restart ${s.restart ?? '(none)'}; services exit on fatal errors by design`];
  });
}

/** One build per profile (its own image); every other container of ours reuses it and never pulls it. */
function imageProblems(c: Compose): string[] {
  const p: string[] = [];
  for (const profile of PROFILES) {
    const image = IMAGE_OF[profile];
    const builds = inProfile(c, profile).filter(([, s]) => s.build !== undefined);
    if (builds.length !== 1) p.push(`${profile}: ${builds.length} services build an image, expected 1`);
    for (const [name, s] of builds)
      if (s.image !== image) p.push(`${name} builds ${s.image}, expected ${image}`);
    for (const [name, s] of inProfile(c, profile)) {
      if (!(s.image ?? '').startsWith('wdt-kingdee-sync')) continue;
      if (s.image !== image) p.push(`${name}: image ${s.image}, expected ${image} in ${profile}`);
      // The builder too: `never` builds a missing image instead of trying a registry first.
      if (s.pull_policy !== 'never') p.push(`${name}: pull_policy ${s.pull_policy}, expected never`);
      if (isService(s) && s.image !== image) p.push(`${name}: does not run ${image}`);
    }
  }
  return p;
}

/** Kafka's and Postgres' data in named volumes; their host ports configurable. */
function storageProblems(c: Compose): string[] {
  const p: string[] = [];
  const named = (s: Service | undefined, path: string) =>
    s?.volumes?.some((v) => {
      const [source, target] = v.split(':');
      return target === path && !/^[./~$]/.test(source) && c.volumes && source in c.volumes;
    });
  if (!named(c.services.kafka, c.services.kafka?.environment?.KAFKA_LOG_DIRS as string))
    p.push('kafka: KAFKA_LOG_DIRS is not a named volume');
  if (!named(c.services.postgres, '/var/lib/postgresql/data')) p.push('postgres: data is not a named volume');
  if (!c.services.kafka?.ports?.includes('${KAFKA_HOST_PORT:-9092}:9092'))
    p.push('kafka: host port not ${KAFKA_HOST_PORT:-9092}');
  if (
    !String(c.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).includes(
      'localhost:${KAFKA_HOST_PORT:-9092}',
    )
  )
    p.push('kafka: the host listener does not advertise ${KAFKA_HOST_PORT:-9092}');
  if (!c.services.postgres?.ports?.includes('${POSTGRES_HOST_PORT:-5433}:5432'))
    p.push('postgres: host port not ${POSTGRES_HOST_PORT:-5433}');
  return p;
}

/** Migrations and topics first: every service of a profile waits for its migrate to exit 0. */
function migrateFirstProblems(c: Compose): string[] {
  const p: string[] = [];
  for (const profile of PROFILES) {
    const migrate = c.services[MIGRATE[profile]];
    if (!migrate?.profiles?.includes(profile)) {
      p.push(`${profile}: no ${MIGRATE[profile]} service`);
      continue;
    }
    if (!commandOf(migrate).includes(MIGRATE_COMMAND))
      p.push(`${MIGRATE[profile]}: does not migrate, then provision topics`);
    for (const [name, s] of inProfile(c, profile)) {
      if (!isService(s)) continue;
      const dep = s.depends_on?.[MIGRATE[profile]];
      if (dep?.condition !== 'service_completed_successfully' || dep.required === false)
        p.push(`${name}: does not wait for ${MIGRATE[profile]} to complete successfully`);
    }
  }
  return p;
}

/**
 * The production profile: settings only from deploy/compose/production.env (no sandbox value), the
 * migration as the DDL user, the Kafka CA for all, connections and their secrets only where needed.
 */
function productionProblems(c: Compose, example: Record<string, string>): string[] {
  const p: string[] = [];
  for (const [name, s] of inProfile(c, 'production')) {
    if (s.build !== undefined) continue;
    const files = (s.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
    if (!files.includes(PRODUCTION_ENV)) p.push(`${name}: does not read ${PRODUCTION_ENV}`);
    for (const key of Object.keys(s.environment ?? {}))
      if (!['HTTP_PORT', 'NODE_OPTIONS'].includes(key))
        p.push(`${name}: sets ${key} in docker-compose.yml, not in the env file`);
    if (s.secrets?.length) p.push(`${name}: uses the sandbox's secrets`);
    const mounts = (s.volumes ?? []).map((v) => v.split(':'));
    const mounted = (target: string) =>
      mounts.some(
        ([source, t, mode]) =>
          t === target && source.startsWith('./deploy/compose/production/') && mode === 'ro',
      );
    if (!mounted(dirname(example.KAFKA_SSL_CA_FILE)))
      p.push(`${name}: no Kafka CA at ${dirname(example.KAFKA_SSL_CA_FILE)}`);
    const app = appOf(s) as ServiceName | undefined;
    if (!app) continue;
    if (mounted(example.CONNECTIONS_FILE) !== READS_CONNECTIONS.includes(app))
      p.push(`${name}: connections file mounted: ${mounted(example.CONNECTIONS_FILE)}`);
    if (mounted('/run/secrets/wdt-kingdee') !== USES_SECRETS.includes(app))
      p.push(`${name}: connection secrets mounted: ${mounted('/run/secrets/wdt-kingdee')}`);
    if (s.ports?.some((port) => !port.startsWith('127.0.0.1:')))
      p.push(`${name}: a port published beyond the host's loopback`);
  }
  const migrate = commandOf(c.services['migrate-production'] ?? {});
  // `$$`: Compose leaves `${...}` to the container's shell, which reads the env file's value.
  if (!/export DATABASE_URL="\$\$\{DATABASE_MIGRATION_URL:\?/.test(migrate))
    p.push('migrate-production: does not migrate as DATABASE_MIGRATION_URL (the DDL user)');
  return p;
}

// --- the tests -------------------------------------------------------------------------------------

const example = parseEnvFile(readFileSync(join(root, 'deploy/compose/production.env.example'), 'utf8'));

describe('docker-compose.yml', () => {
  it('puts every service in the sandbox or production profile, never half a stack by default', () => {
    expect(profileProblems(compose)).toEqual([]);
    expect(inProfile(compose, 'sandbox').map(([n]) => n)).toEqual(
      expect.arrayContaining(['kafka', 'postgres', 'wdt-sandbox', 'kingdee-sandbox', 'migrate', ...SERVICES]),
    );
  });

  it('restarts services after a fatal exit, not the one-shots', () => {
    expect(restartProblems(compose)).toEqual([]);
  });

  it(`builds one image per profile (${IMAGE}, ${SANDBOX_IMAGE}) once and reuses it`, () => {
    expect(imageProblems(compose)).toEqual([]);
  });

  it('keeps Kafka and Postgres data in named volumes, on configurable host ports', () => {
    expect(storageProblems(compose)).toEqual([]);
  });

  it('migrates and provisions topics before any service starts', () => {
    expect(migrateFirstProblems(compose)).toEqual([]);
  });

  it('runs production from the env file, with the Kafka CA and only the mounts each service needs', () => {
    expect(productionProblems(compose, example)).toEqual([]);
  });
});

describe('deploy/compose production examples', () => {
  it('production.env.example: known names, secrets as REPLACE_ME, and every service validates with it', () => {
    const known = new Set([
      ...Object.values(SERVICE_ENV).flatMap((shape) => Object.keys(shape)),
      ...Object.keys(commonEnv),
      ...CONTRACT_ENV,
      'TOPIC_REPLICATION_FACTOR',
    ]);
    expect(Object.keys(example).filter((k) => !known.has(k))).toEqual([]);
    expect(example.APP_MODE).toBe('production');
    for (const name of [...SECRET_ENV_VARS, 'DATABASE_MIGRATION_URL'])
      if (example[name]) expect([name, example[name].includes('REPLACE_ME')]).toEqual([name, true]);
    expect(example.DATABASE_MIGRATION_URL).not.toBe(example.DATABASE_URL);
    const dir = mkdtempSync(join(tmpdir(), 'compose-production-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      for (const [name, s] of inProfile(compose, 'production')) {
        const service = appOf(s) as ServiceName | undefined;
        if (!service) continue;
        const env = {
          ...example,
          ...(s.environment as Record<string, string>),
          KAFKA_SSL_CA_FILE: join(dir, 'ca.crt'),
        };
        let error = '';
        try {
          loadServiceConfig(service, env);
        } catch (err) {
          error = (err as Error).message;
        }
        expect([name, error]).toEqual([name, '']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connections.production.yaml.example loads, its secrets under the mounted secrets directory', () => {
    const text = readFileSync(join(root, 'deploy/compose/connections.production.yaml.example'), 'utf8');
    const refs = [...text.matchAll(/file: (\/[^\s}]+)/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(dirname(ref)).toBe('/run/secrets/wdt-kingdee');
    const dir = mkdtempSync(join(tmpdir(), 'compose-connections-'));
    try {
      for (const ref of refs) writeFileSync(join(dir, ref.split('/').pop()!), 'REPLACE_ME-secret');
      writeFileSync(join(dir, 'connections.yaml'), text.replaceAll('/run/secrets/wdt-kingdee', dir));
      const registry = loadConnections({
        env: { APP_MODE: 'production' },
        file: join(dir, 'connections.yaml'),
        kinds: ['wdt', 'kingdee'],
      });
      expect(registry.wdtNames()).toEqual(['default']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the compose rules catch the mistakes they exist for', () => {
  const mutated = (change: (c: Compose) => void): Compose => {
    const copy = structuredClone(compose);
    change(copy);
    return copy;
  };

  it('a service without a profile, or depending on another profile', () => {
    const c = mutated((x) => {
      delete x.services.transformer.profiles;
      x.services['loader-production'].depends_on = { kafka: { condition: 'service_healthy' } };
    });
    const text = profileProblems(c).join('\n');
    expect(text).toMatch(/transformer: no profile/);
    expect(text).toMatch(/loader-production \(production\) depends on kafka, which is not in production/);
  });

  it('a service without a restart policy, or a restarting one-shot', () => {
    const c = mutated((x) => {
      delete x.services.loader.restart;
      x.services.migrate.restart = 'on-failure';
    });
    expect(restartProblems(c)).toEqual([
      'migrate: a one-shot needs restart "no"',
      'loader: restart (none); services exit on fatal errors by design',
    ]);
  });

  it('a second build, or an image pulled instead of reused', () => {
    const c = mutated((x) => {
      x.services.loader.build = '.';
      x.services.extractor.pull_policy = 'missing';
    });
    const text = imageProblems(c).join('\n');
    expect(text).toMatch(/2 services build an image/);
    expect(text).toMatch(/extractor: pull_policy missing, expected never/);
  });

  it('a bind-mounted data directory, or a fixed host port', () => {
    const c = mutated((x) => {
      x.services.postgres.volumes = ['./pgdata:/var/lib/postgresql/data'];
      x.services.kafka.ports = ['9092:9092'];
    });
    expect(storageProblems(c)).toEqual([
      'postgres: data is not a named volume',
      'kafka: host port not ${KAFKA_HOST_PORT:-9092}',
    ]);
  });

  it('a service that starts before migrations completed', () => {
    const c = mutated((x) => {
      x.services['audit-writer'].depends_on = { migrate: { condition: 'service_started' } };
      delete x.services['reconciler-production'].depends_on;
    });
    expect(migrateFirstProblems(c)).toEqual([
      'audit-writer: does not wait for migrate to complete successfully',
      'reconciler-production: does not wait for migrate-production to complete successfully',
    ]);
  });

  it('a production service with a sandbox value, the secrets where not needed, or migrations as the DML user', () => {
    const c = mutated((x) => {
      x.services['transformer-production'].environment = { HTTP_PORT: 3002, KAFKA_BROKERS: 'kafka:19092' };
      x.services['operator-production'].volumes!.push(
        './deploy/compose/production/secrets:/run/secrets/wdt-kingdee:ro',
      );
      x.services['migrate-production'].command = ['sh', '-c', 'node dist/apps/cli/src/migrate.js'];
    });
    expect(productionProblems(c, example)).toEqual([
      'transformer-production: sets KAFKA_BROKERS in docker-compose.yml, not in the env file',
      'operator-production: connection secrets mounted: true',
      'migrate-production: does not migrate as DATABASE_MIGRATION_URL (the DDL user)',
    ]);
  });
});
