import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { serviceNodeFlags } from '@libs/common';
import { TOPIC_CATALOGUE, TopicRole } from '@libs/contracts';
import { commonEnv, SECRET_ENV_VARS, SERVICE_ENV, ServiceName } from './env.schema';
import { loadServiceConfig } from './load-config';
import { readConnectionsOutline } from '@libs/connections';

/**
 * deploy/k8s (kustomize base) and deploy/k8s/optional/keda (component) against the config schema,
 * the topic catalogue and the scheme files. Reads the files as kustomize would, without a cluster or
 * the kustomize binary. The checks return lists of problems; the last block proves they catch the
 * mistakes they exist for.
 */

const root = join(__dirname, '../../..');
const K8S = join(root, 'deploy/k8s');
const KEDA = join(K8S, 'optional/keda');
const SERVICES = Object.keys(SERVICE_ENV) as ServiceName[];
const IMAGE = 'wdt-kingdee-sync:latest';
const SECRET_NAME = 'wdt-kingdee-secrets';
const SCHEMES_CONFIGMAP = 'wdt-kingdee-schemes';
const SETUP_COMMAND = 'node dist/apps/cli/src/migrate.js && node dist/apps/cli/src/provision-topics.js';
const PHASE_LABEL = 'wdt-kingdee.io/phase';
const MEMORY_LIMIT_MAX = 256 * 1024 * 1024;
/** Services reading SCHEMES_DIR (the audit writer does not). */
const SCHEME_READERS: ServiceName[] = ['extractor', 'transformer', 'loader', 'operator', 'reconciler'];
/** Consumers scaled by HPA / KEDA and the topic each one consumes. */
const SCALED_CONSUMERS: Partial<Record<ServiceName, TopicRole>> = {
  transformer: 'rawStockout',
  loader: 'kingdeeDocument',
};
const SECRETS: ReadonlySet<string> = new Set(SECRET_ENV_VARS);
/** Connections (libs/connections): the file, and the Secret whose keys its references name. */
const CONNECTION_SECRET = 'wdt-kingdee-connection-secrets';
const CONNECTIONS_MOUNT = '/app/config';
const CONNECTION_SECRETS_MOUNT = '/var/run/secrets/wdt-kingdee';
const CONNECTION_ENV_SECRETS = [
  'WDT_APPSECRET',
  'WDT_QIMEN_APP_SECRET',
  'KINGDEE_APP_SECRET',
  'KINGDEE_PASSWORD',
];
/** Which services read connections, and the kinds whose secrets they need (as libs/runtime wires them). */
const SERVICE_CONNECTION_KINDS: Partial<Record<ServiceName, string[]>> = {
  extractor: ['wdt'],
  loader: ['kingdee'],
  reconciler: ['wdt', 'kingdee'],
  operator: [],
};

// --- minimal Kubernetes shapes ---------------------------------------------------------------------

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}
interface EnvVar {
  name: string;
  value?: unknown;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } & Record<string, unknown>;
}
interface EnvFrom {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}
interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    volumes?: Array<{
      name: string;
      configMap?: { name: string };
      secret?: { secretName: string };
      emptyDir?: unknown;
    }>;
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface DeploymentSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template: PodTemplate;
}
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  generatorOptions?: { labels?: Record<string, string> };
  configMapGenerator?: Array<{ name: string; envs?: string[]; files?: string[]; literals?: string[] }>;
  patches?: Array<{ patch?: string; path?: string }>;
  replacements?: Array<{
    source: { kind: string; name: string; fieldPath: string };
    targets: Array<{ select: { kind: string; name?: string }; fieldPaths: string[] }>;
  }>;
}

interface Manifests {
  kustomization: Kustomization;
  /** Every document of every listed resource file, with the file it came from. */
  objects: Array<K8sObject & { file: string }>;
  /** Generated ConfigMaps (configMapGenerator) and plain ones, by their un-hashed name. */
  configMaps: Map<string, { data: Record<string, string>; labels: Record<string, string> }>;
  secrets: Map<string, { data: Record<string, string>; labels: Record<string, string> }>;
  problems: string[];
}

// --- reading ---------------------------------------------------------------------------------------

function parseYamlFile(file: string, problems: string[]): unknown[] {
  if (!existsSync(file)) {
    problems.push(`${file}: missing`);
    return [];
  }
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors) problems.push(`${file}: ${e.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** A kustomize `envs:` file: KEY=VALUE lines; blank lines and `#` comments skipped. */
function parseEnvFile(file: string, problems: string[]): Record<string, string> {
  const data: Record<string, string> = {};
  if (!existsSync(file)) {
    problems.push(`${file}: missing`);
    return data;
  }
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problems.push(`${file}:${i + 1}: not KEY=VALUE`);
      else if (key in data) problems.push(`${file}:${i + 1}: ${key} defined twice`);
      else data[key] = line.slice(eq + 1);
    });
  return data;
}

function loadManifests(dir: string): Manifests {
  const problems: string[] = [];
  const [kustomization = {}] = parseYamlFile(join(dir, 'kustomization.yaml'), problems) as Kustomization[];
  const objects: Manifests['objects'] = [];
  for (const resource of kustomization.resources ?? []) {
    for (const doc of parseYamlFile(join(dir, resource), problems) as K8sObject[]) {
      if (!doc.apiVersion || !doc.kind || !doc.metadata?.name)
        problems.push(`${resource}: a document without apiVersion, kind or metadata.name`);
      else objects.push({ ...doc, file: resource });
    }
  }
  const configMaps: Manifests['configMaps'] = new Map();
  const secrets: Manifests['secrets'] = new Map();
  const generatedLabels = kustomization.generatorOptions?.labels ?? {};
  for (const gen of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const envFile of gen.envs ?? []) Object.assign(data, parseEnvFile(join(dir, envFile), problems));
    for (const file of gen.files ?? []) {
      const path = join(dir, file);
      if (existsSync(path)) data[basename(file)] = readFileSync(path, 'utf8');
      else problems.push(`${file}: missing (configMapGenerator ${gen.name})`);
    }
    if (gen.literals) problems.push(`configMapGenerator ${gen.name}: use env files, not literals`);
    configMaps.set(gen.name, { data, labels: generatedLabels });
  }
  for (const o of objects) {
    const labels = o.metadata.labels ?? {};
    if (o.kind === 'ConfigMap') configMaps.set(o.metadata.name, { data: o.data ?? {}, labels });
    if (o.kind === 'Secret') {
      const decoded = Object.fromEntries(
        Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
      secrets.set(o.metadata.name, { data: { ...decoded, ...(o.stringData ?? {}) }, labels });
    }
  }
  return { kustomization, objects, configMaps, secrets, problems };
}

const manifests = loadManifests(K8S);

// --- checks ----------------------------------------------------------------------------------------

type Source = 'secret' | 'configMap' | 'value';
interface ResolvedEnv {
  env: Record<string, string>;
  /** Every source of each name (more than one is itself a problem). */
  sources: Map<string, Source[]>;
  problems: string[];
}

/** The environment a container gets, and where each variable comes from. */
function resolveEnv(container: Container, m: Manifests): ResolvedEnv {
  const env: Record<string, string> = {};
  const sources = new Map<string, Source[]>();
  const problems: string[] = [];
  const note = (name: string, source: Source) => {
    const seen = sources.get(name) ?? [];
    if (seen.length > 0) problems.push(`${name} is set twice (${seen.join(', ')} and ${source})`);
    sources.set(name, [...seen, source]);
  };
  const set = (name: string, value: string, source: Source) => {
    note(name, source);
    env[name] = value;
  };
  for (const from of container.envFrom ?? []) {
    if (from.prefix) problems.push(`envFrom with prefix "${from.prefix}"`);
    const ref = from.configMapRef ?? from.secretRef;
    const kind: Source = from.configMapRef ? 'configMap' : 'secret';
    const target = ref && (kind === 'configMap' ? m.configMaps : m.secrets).get(ref.name);
    if (!ref || !target) {
      problems.push(`envFrom ${kind} ${ref?.name ?? '(none)'} does not exist`);
      continue;
    }
    for (const [name, value] of Object.entries(target.data)) set(name, value, kind);
  }
  for (const v of container.env ?? []) {
    const { secretKeyRef, configMapKeyRef, ...other } = v.valueFrom ?? {};
    if (v.value !== undefined) set(v.name, String(v.value), 'value');
    else if (secretKeyRef || configMapKeyRef) {
      const ref = (secretKeyRef ?? configMapKeyRef) as KeyRef;
      const kind: Source = secretKeyRef ? 'secret' : 'configMap';
      const target = (kind === 'secret' ? m.secrets : m.configMaps).get(ref.name);
      const value = target?.data[ref.key];
      if (value === undefined && !ref.optional)
        problems.push(`${v.name}: ${kind} ${ref.name} has no key ${ref.key}`);
      else if (value !== undefined) set(v.name, value, kind);
      else note(v.name, kind);
    } else problems.push(`${v.name}: unsupported source ${Object.keys(other).join(',') || '(none)'}`);
  }
  return { env, sources, problems };
}

/** `256Mi` → bytes. */
function quantityBytes(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(q ?? '');
  if (!m) return Number.NaN;
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

function portOf(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function deployment(m: Manifests, name: string): (K8sObject & { spec: DeploymentSpec }) | undefined {
  return m.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as
    (K8sObject & { spec: DeploymentSpec }) | undefined;
}

function schemaDefault(service: ServiceName, name: string): unknown {
  return (SERVICE_ENV[service] as Record<string, z.ZodType>)[name].parse(undefined);
}

function partitionsOf(role: TopicRole, m: Manifests): number {
  const spec = TOPIC_CATALOGUE[role];
  const override = m.configMaps.get('wdt-kingdee-setup')?.data[`${spec.envVar}_PARTITIONS`];
  return override ? Number(override) : spec.partitions;
}

/** Everything a service's Deployment must satisfy; [] when it does. */
function deploymentProblems(service: ServiceName, m: Manifests): string[] {
  const d = deployment(m, service);
  if (!d) return [`no Deployment named ${service}`];
  const problems: string[] = [];
  const p = (text: string) => problems.push(`${service}: ${text}`);
  const pod = d.spec.template;
  const labels = pod.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(d.spec.selector?.matchLabels ?? {}))
    if (labels[k] !== v) p(`selector ${k}=${v} does not match the pod labels`);
  if (pod.spec.containers.length !== 1) p(`expected one container, found ${pod.spec.containers.length}`);
  const c = pod.spec.containers[0];
  if (c.image !== IMAGE) p(`image ${c.image}, expected ${IMAGE}`);
  const command = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
  const expected = ['node', ...serviceNodeFlags(service), `dist/apps/${service}/src/main.js`].join(' ');
  if (command !== expected) p(`command "${command}", expected "${expected}" (SERVICE_NODE_FLAGS)`);

  // Environment: names the schema knows, secrets only from the Secret, and it validates.
  const resolved = resolveEnv(c, m);
  resolved.problems.forEach(p);
  const known = new Set(Object.keys(SERVICE_ENV[service]));
  for (const [name, list] of resolved.sources) {
    if (!known.has(name)) p(`env ${name} is not a variable of the ${service} schema`);
    for (const source of list)
      if (SECRETS.has(name) && source !== 'secret')
        p(`secret ${name} comes from a ${source}, not the Secret`);
  }
  for (const env of c.env ?? []) {
    const ref = env.valueFrom?.secretKeyRef;
    if (ref && ref.name !== SECRET_NAME) p(`${env.name} reads Secret ${ref.name}, not ${SECRET_NAME}`);
  }
  let config: Record<string, unknown>;
  try {
    config = loadServiceConfig(service, resolved.env) as Record<string, unknown>;
  } catch (err) {
    p(`env does not validate: ${(err as Error).message}`);
    return problems;
  }

  // Port, probes, metrics.
  const port = c.ports?.find((x) => x.name === 'http')?.containerPort;
  const defaultPort = schemaDefault(service, 'HTTP_PORT');
  if (port !== defaultPort || config.HTTP_PORT !== defaultPort)
    p(`containerPort ${port} / HTTP_PORT ${String(config.HTTP_PORT)}, expected ${String(defaultPort)}`);
  const probes: Array<[string, Probe | undefined, string]> = [
    ['livenessProbe', c.livenessProbe, '/health'],
    ['readinessProbe', c.readinessProbe, '/ready'],
  ];
  if (c.startupProbe) probes.push(['startupProbe', c.startupProbe, '/health']);
  for (const [what, probe, path] of probes) {
    if (probe?.httpGet?.path !== path) p(`${what} must GET ${path}`);
    if (portOf(c, probe?.httpGet?.port) !== port) p(`${what} must use port ${port}`);
  }
  const ann = pod.metadata?.annotations ?? {};
  if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/path'] !== '/metrics')
    p('pod must be annotated prometheus.io/scrape "true" and prometheus.io/path /metrics');
  if (ann['prometheus.io/port'] !== String(port)) p(`prometheus.io/port must be "${port}"`);

  // Resources, security, shutdown.
  const req = c.resources?.requests ?? {};
  const limit = quantityBytes(c.resources?.limits?.memory);
  if (!req.cpu || !req.memory) p('cpu and memory requests are required (the HPA needs the cpu one)');
  if (!(limit <= MEMORY_LIMIT_MAX)) p(`memory limit ${c.resources?.limits?.memory} above 256Mi or missing`);
  if (quantityBytes(req.memory) > limit) p('memory request above the limit');
  const psc = pod.spec.securityContext ?? {};
  if (psc.runAsNonRoot !== true || !(typeof psc.runAsUser === 'number' && psc.runAsUser > 0))
    p('pod needs runAsNonRoot: true and a numeric non-root runAsUser');
  const sc = c.securityContext ?? {};
  if (sc.readOnlyRootFilesystem !== true || sc.allowPrivilegeEscalation !== false)
    p('container needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false');
  if (!sc.capabilities?.drop?.includes('ALL')) p('container must drop ALL capabilities');
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  // The loader hands in-flight writes to settling and stops within LOADER_SHUTDOWN_GRACE_MS; the
  // extractor finishes its WDT call. The pod's grace must outlast that, with room for the exit.
  const longestStopMs =
    service === 'loader'
      ? Number(config.LOADER_SHUTDOWN_GRACE_MS)
      : service === 'extractor' || service === 'reconciler'
        ? Number(config.WDT_TIMEOUT_MS)
        : 0;
  const minGrace = Math.max(30, Math.ceil(longestStopMs / 1000) + 15);
  if (grace < minGrace) p(`terminationGracePeriodSeconds ${grace} < ${minGrace}`);

  // Scheme files: the directory plus every ConfigMap key as a regular file (subPath).
  if (SCHEME_READERS.includes(service)) {
    const dir = String(config.SCHEMES_DIR);
    const mounts = c.volumeMounts ?? [];
    const volumes = pod.spec.volumes ?? [];
    const volume = volumes.find((v) => v.configMap?.name === SCHEMES_CONFIGMAP);
    if (!mounts.some((mt) => mt.mountPath === dir)) p(`nothing mounted at SCHEMES_DIR ${dir}`);
    if (!volume) p(`no volume from ConfigMap ${SCHEMES_CONFIGMAP}`);
    for (const key of Object.keys(m.configMaps.get(SCHEMES_CONFIGMAP)?.data ?? {})) {
      const ok = mounts.some(
        (mt) => mt.name === volume?.name && mt.subPath === key && mt.mountPath === `${dir}/${key}`,
      );
      if (!ok) p(`scheme ${key} is not mounted (subPath) at ${dir}/${key}`);
    }
  }
  for (const mt of c.volumeMounts ?? [])
    if (!(pod.spec.volumes ?? []).some((v) => v.name === mt.name)) p(`mount of unknown volume ${mt.name}`);

  // Replicas of autoscaled consumers belong to the autoscaler.
  if (SCALED_CONSUMERS[service] && d.spec.replicas !== undefined)
    p('spec.replicas is set, so every apply would reset what the autoscaler chose');
  return problems;
}

function groupIdOf(service: ServiceName, m: Manifests): string {
  const d = deployment(m, service);
  const env = d ? resolveEnv(d.spec.template.spec.containers[0], m).env : {};
  return env.KAFKA_GROUP_ID || `wdt-kingdee.${service}`;
}

// --- the tests -------------------------------------------------------------------------------------

describe('deploy/k8s (kustomize base)', () => {
  it('lists resources and generator files that exist and parse', () => {
    expect(manifests.problems).toEqual([]);
    expect(manifests.kustomization.resources?.length).toBeGreaterThan(0);
    expect(manifests.kustomization.namespace).toBe('wdt-kingdee');
    const ns = manifests.objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(ns).toEqual(['wdt-kingdee']);
  });

  it('has exactly one Deployment per service', () => {
    const names = manifests.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(names.sort()).toEqual([...SERVICES].sort());
  });

  it.each(SERVICES)(
    '%s: env known to its schema and valid, secrets from the Secret, port, probes, limits',
    (service) => {
      expect(deploymentProblems(service, manifests)).toEqual([]);
    },
  );

  it('gives every consumer its own consumer group', () => {
    const groups = (['transformer', 'loader', 'audit-writer'] as ServiceName[]).map((s) =>
      groupIdOf(s, manifests),
    );
    expect(new Set(groups).size).toBe(groups.length);
  });

  it('keeps every secret in the Secret, as a REPLACE_ME placeholder, and none in a ConfigMap', () => {
    const secret = manifests.secrets.get(SECRET_NAME);
    expect(secret).toBeDefined();
    // The single-account variables' secrets belong to the connection `default`, which this deployment
    // defines in the connections file (its secrets: the connection Secret, see below).
    expect(Object.keys(secret!.data).sort()).toEqual(
      [...SECRET_ENV_VARS].filter((n) => !CONNECTION_ENV_SECRETS.includes(n)).sort(),
    );
    for (const [name, value] of Object.entries(secret!.data))
      expect([name, value === '' || value.includes('REPLACE_ME')]).toEqual([name, true]);
    for (const [cm, { data }] of manifests.configMaps)
      for (const name of Object.keys(data)) expect([cm, name, SECRETS.has(name)]).toEqual([cm, name, false]);
  });

  it('gives the services their connections: the file from a ConfigMap, every secret a file of the connection Secret', () => {
    const common = manifests.configMaps.get('wdt-kingdee-common')!.data;
    expect(common.CONNECTIONS_FILE).toBe(`${CONNECTIONS_MOUNT}/connections.yaml`);
    const file = join(K8S, 'connections/connections.yaml');
    expect(
      manifests.kustomization.configMapGenerator?.find((g) => g.name === 'wdt-kingdee-connections')?.files,
    ).toEqual(['connections/connections.yaml']);
    // The shipped scheme reads and writes through `default`; the file defines both.
    const outline = readConnectionsOutline({ env: { APP_MODE: 'production' }, file });
    expect(Object.keys(outline.wdt)).toContain('default');
    expect(Object.keys(outline.kingdee)).toContain('default');
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === 'file' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
    };
    walk(parseAllDocuments(readFileSync(file, 'utf8'))[0].toJS());
    const secret = manifests.secrets.get(CONNECTION_SECRET)!;
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith(`${CONNECTION_SECRETS_MOUNT}/`)).toBe(true);
      const key = ref.slice(CONNECTION_SECRETS_MOUNT.length + 1);
      expect([key, secret.data[key]?.includes('REPLACE_ME')]).toEqual([key, true]);
    }
    for (const service of SERVICES) {
      const pod = deployment(manifests, service)!.spec.template.spec;
      const mounts = pod.containers[0].volumeMounts ?? [];
      const volume = (path: string) =>
        pod.volumes?.find((v) => v.name === mounts.find((m) => m.mountPath === path)?.name);
      const kinds = SERVICE_CONNECTION_KINDS[service];
      // Every service that reads connections has the file; only those using a kind get the secrets.
      expect([service, volume(CONNECTIONS_MOUNT)?.configMap?.name]).toEqual([
        service,
        kinds ? 'wdt-kingdee-connections' : undefined,
      ]);
      expect([service, volume(CONNECTION_SECRETS_MOUNT)?.secret?.secretName]).toEqual([
        service,
        kinds && kinds.length > 0 ? CONNECTION_SECRET : undefined,
      ]);
    }
  });

  it('ships scheme copies identical to schemes/*.yaml', () => {
    const isScheme = (f: string) => /\.ya?ml$/.test(f);
    const originals = readdirSync(join(root, 'schemes')).filter(isScheme).sort();
    const copies = readdirSync(join(K8S, 'schemes')).filter(isScheme).sort();
    expect(originals.length).toBeGreaterThan(0);
    expect(copies).toEqual(originals);
    for (const f of originals)
      expect([f, readFileSync(join(K8S, 'schemes', f), 'utf8')]).toEqual([
        f,
        readFileSync(join(root, 'schemes', f), 'utf8'),
      ]);
    expect(Object.keys(manifests.configMaps.get(SCHEMES_CONFIGMAP)?.data ?? {}).sort()).toEqual(originals);
  });

  it('autoscales transformer and loader by CPU within their input partitions', () => {
    const hpas = manifests.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.apiVersion)).toEqual(hpas.map(() => 'autoscaling/v2'));
    const targets = hpas.map((h) => {
      const spec = h.spec as {
        scaleTargetRef: { kind: string; name: string };
        minReplicas?: number;
        maxReplicas: number;
        metrics?: Array<{ resource?: { name?: string } }>;
      };
      const service = spec.scaleTargetRef.name as ServiceName;
      const role = SCALED_CONSUMERS[service];
      expect([service, spec.scaleTargetRef.kind, !!deployment(manifests, service), !!role]).toEqual([
        service,
        'Deployment',
        true,
        true,
      ]);
      expect(spec.minReplicas ?? 1).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas ?? 1);
      expect(spec.maxReplicas).toBeLessThanOrEqual(partitionsOf(role!, manifests));
      expect(spec.metrics?.some((x) => x.resource?.name === 'cpu')).toBe(true);
      return service;
    });
    expect(targets.sort()).toEqual(Object.keys(SCALED_CONSUMERS).sort());
  });

  it('exposes the operator through a Service on its HTTP port', () => {
    const svc = manifests.objects.find((o) => o.kind === 'Service' && o.metadata.name === 'operator');
    const op = deployment(manifests, 'operator')!;
    const spec = svc?.spec as {
      selector: Record<string, string>;
      ports: Array<{ targetPort: string | number }>;
    };
    const podLabels = op.spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(spec.selector)) expect([k, podLabels[k]]).toEqual([k, v]);
    const ports = spec.ports.map((x) => portOf(op.spec.template.spec.containers[0], x.targetPort));
    expect(ports).toEqual([schemaDefault('operator', 'HTTP_PORT')]);
  });

  it('runs migrations and topic provisioning in a setup Job applied before the Deployments', () => {
    const jobs = manifests.objects.filter((o) => o.kind === 'Job');
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    const pod = (job.spec as { template: PodTemplate }).template;
    const c = pod.spec.containers[0];
    expect(c.image).toBe(IMAGE);
    expect([...(c.command ?? []), ...(c.args ?? [])]).toEqual(['sh', '-c', SETUP_COMMAND]);
    for (const f of ['migrate', 'provision-topics'])
      expect(existsSync(join(root, `apps/cli/src/${f}.ts`))).toBe(true);
    expect(['Never', 'OnFailure']).toContain(pod.spec.restartPolicy);
    expect(job.metadata.annotations?.['wdt-kingdee.io/runs-before']?.split(',').sort()).toEqual(
      [...SERVICES].sort(),
    );
    // Env: what migrate.ts and provision-topics.ts read, secrets from the Secret.
    const resolved = resolveEnv(c, manifests);
    expect(resolved.problems).toEqual([]);
    const allowed = new Set([
      ...Object.keys(commonEnv),
      'TOPIC_REPLICATION_FACTOR',
      ...Object.values(TOPIC_CATALOGUE).flatMap((t) => [
        `${t.envVar}_PARTITIONS`,
        `${t.envVar}_RETENTION_DAYS`,
      ]),
    ]);
    for (const [name, list] of resolved.sources) {
      expect([name, allowed.has(name)]).toEqual([name, true]);
      if (SECRETS.has(name)) expect([name, list]).toEqual([name, ['secret']]);
    }
    expect(resolved.sources.get('DATABASE_URL')).toEqual(['secret']);
    // Step 1 of the plain-kubectl procedure applies `-l wdt-kingdee.io/phase=setup`: the Job, its
    // namespace and everything it reads must carry the label.
    const phase = (labels: Record<string, string> | undefined) => labels?.[PHASE_LABEL];
    expect(phase(job.metadata.labels)).toBe('setup');
    expect(phase(manifests.objects.find((o) => o.kind === 'Namespace')?.metadata.labels)).toBe('setup');
    for (const from of c.envFrom ?? []) {
      const name = from.configMapRef?.name ?? from.secretRef?.name ?? '';
      const target = from.configMapRef ? manifests.configMaps.get(name) : manifests.secrets.get(name);
      expect([name, phase(target?.labels)]).toEqual([name, 'setup']);
    }
    for (const env of c.env ?? []) {
      const ref = env.valueFrom?.secretKeyRef ?? env.valueFrom?.configMapKeyRef;
      const target = env.valueFrom?.secretKeyRef
        ? manifests.secrets.get(ref!.name)
        : manifests.configMaps.get(ref!.name);
      expect([env.name, phase(target?.labels)]).toEqual([env.name, 'setup']);
    }
    // Nothing else carries the label (it would start before the Job finished).
    const early = manifests.objects
      .filter((o) => phase(o.metadata.labels) === 'setup')
      .map((o) => o.kind)
      .sort();
    expect([...new Set(early)]).toEqual(['Job', 'Namespace', 'Secret']);
  });
});

describe('deploy/k8s/optional/keda (kustomize component)', () => {
  const component = loadManifests(KEDA);

  it('is a Component whose resources exist and parse', () => {
    expect(component.problems).toEqual([]);
    expect(component.kustomization.kind).toBe('Component');
  });

  it('scales transformer and loader on their own consumer group and input topic', () => {
    const scaled = component.objects.filter((o) => o.kind === 'ScaledObject');
    const services = scaled.map((so) => {
      const spec = so.spec as {
        scaleTargetRef: { name: string };
        minReplicaCount?: number;
        maxReplicaCount: number;
        triggers: Array<{ type: string; metadata: Record<string, string> }>;
      };
      const service = spec.scaleTargetRef.name as ServiceName;
      const role = SCALED_CONSUMERS[service];
      expect([service, !!role, so.metadata.namespace]).toEqual([service, true, 'wdt-kingdee']);
      const kafka = spec.triggers.find((t) => t.type === 'kafka')?.metadata;
      expect(kafka?.consumerGroup).toBe(groupIdOf(service, manifests));
      expect(kafka?.topic).toBe(TOPIC_CATALOGUE[role!].defaultName);
      expect(kafka?.bootstrapServers).toBeTruthy();
      expect(spec.minReplicaCount ?? 0).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicaCount).toBeLessThanOrEqual(partitionsOf(role!, manifests));
      // The topic and brokers are copied from the services' ConfigMap at build time.
      const copies = (key: string, field: string) =>
        (component.kustomization.replacements ?? []).some(
          (r) =>
            r.source.kind === 'ConfigMap' &&
            r.source.name === 'wdt-kingdee-common' &&
            r.source.fieldPath === `data.${key}` &&
            r.targets.some(
              (t) =>
                t.select.kind === 'ScaledObject' &&
                (t.select.name === undefined || t.select.name === service) &&
                t.fieldPaths.includes(`spec.triggers.[type=kafka].metadata.${field}`),
            ),
        );
      expect([service, copies(TOPIC_CATALOGUE[role!].envVar, 'topic')]).toEqual([service, true]);
      expect([service, copies('KAFKA_BROKERS', 'bootstrapServers')]).toEqual([service, true]);
      expect(
        manifests.configMaps.get('wdt-kingdee-common')?.data[TOPIC_CATALOGUE[role!].envVar],
      ).toBeDefined();
      return service;
    });
    expect(services.sort()).toEqual(Object.keys(SCALED_CONSUMERS).sort());
  });

  it('deletes the base HPAs it replaces', () => {
    const deleted = (component.kustomization.patches ?? []).flatMap((patch) => {
      const [doc] = parseAllDocuments(patch.patch ?? '').map((d) => d.toJS() as Record<string, unknown>);
      const meta = doc?.metadata as { name?: string } | undefined;
      return doc?.$patch === 'delete' && doc.kind === 'HorizontalPodAutoscaler' ? [meta?.name] : [];
    });
    const baseHpas = manifests.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(deleted.sort()).toEqual(baseHpas.map((h) => h.metadata.name).sort());
  });
});

describe('the manifest checks catch mistakes', () => {
  const mutated = (change: (m: Manifests) => void): Manifests => {
    const copy = structuredClone(manifests);
    change(copy);
    return copy;
  };
  const container = (m: Manifests, service: ServiceName) =>
    deployment(m, service)!.spec.template.spec.containers[0];

  it('an env name the schema does not know', () => {
    const m = mutated((c) => {
      c.configMaps.get('wdt-kingdee-common')!.data.KAFKA_GROUP_ID_TYPO = 'x';
    });
    expect(deploymentProblems('transformer', m).join('\n')).toMatch(/KAFKA_GROUP_ID_TYPO is not a variable/);
    const n = mutated((c) => container(c, 'transformer').env!.push({ name: 'WDT_SID', value: 'x' }));
    expect(deploymentProblems('transformer', n).join('\n')).toMatch(/WDT_SID is not a variable/);
  });

  it('a secret given as a plain value or from a ConfigMap', () => {
    const m = mutated((c) => {
      const env = container(c, 'operator').env!;
      env.find((e) => e.name === 'OPERATOR_TOKENS')!.valueFrom = undefined;
      env.find((e) => e.name === 'OPERATOR_TOKENS')!.value = 'ops:0123456789abcdef01';
    });
    expect(deploymentProblems('operator', m).join('\n')).toMatch(/secret OPERATOR_TOKENS comes from a value/);
    const n = mutated((c) => {
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_PASSWORD = 'pw';
    });
    expect(deploymentProblems('loader', n).join('\n')).toMatch(/KINGDEE_PASSWORD comes from a configMap/);
  });

  it('a required variable missing, or one that does not validate', () => {
    const m = mutated((c) => {
      delete c.configMaps.get('wdt-kingdee-common')!.data.KAFKA_BROKERS;
    });
    expect(deploymentProblems('extractor', m).join('\n')).toMatch(/does not validate:[\s\S]*KAFKA_BROKERS/);
    const n = mutated((c) => {
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_SERVER_URL = 'http://127.0.0.1:18082/k3cloud/';
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_ACCT_ID = 'a';
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_USERNAME = 'u';
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_APP_ID = 'x';
      c.configMaps.get('wdt-kingdee-loader')!.data.KINGDEE_APP_SECRET = 'x';
    });
    expect(deploymentProblems('loader', n).join('\n')).toMatch(/APP_MODE=production/);
  });

  it('a wrong port, probe path or too short a grace period', () => {
    const m = mutated((c) => {
      container(c, 'loader').ports![0].containerPort = 8080;
      container(c, 'loader').readinessProbe!.httpGet!.path = '/health';
      deployment(c, 'loader')!.spec.template.spec.terminationGracePeriodSeconds = 30;
    });
    const text = deploymentProblems('loader', m).join('\n');
    expect(text).toMatch(/containerPort 8080/);
    expect(text).toMatch(/readinessProbe must GET \/ready/);
    expect(text).toMatch(/terminationGracePeriodSeconds 30 < 40/);
  });

  it('a scheme file not mounted', () => {
    const m = mutated((c) => {
      c.configMaps.get(SCHEMES_CONFIGMAP)!.data['another.yaml'] = 'id: another';
    });
    expect(deploymentProblems('transformer', m).join('\n')).toMatch(/scheme another.yaml is not mounted/);
  });
});
