import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { serviceNodeFlags } from '@libs/common';
import { SECRET_ENV_VARS, SERVICE_ENV, ServiceName, commonEnv, loadServiceConfig } from '@libs/config';
import { TOPIC_CATALOGUE, TopicRole } from '@libs/contracts';

/**
 * deploy/k8s read as kustomize would (no cluster, no kustomize binary): every document is validated
 * against the Kubernetes API schema with kubernetes-models, then against this project's rules. Each
 * rule returns a list of problems; the last block shows each rule catching the mistake it exists for.
 */

const root = join(__dirname, '../..');
const K8S = join(root, 'deploy/k8s');
const SERVICES = Object.keys(SERVICE_ENV) as ServiceName[];
const IMAGE = 'wdt-kingdee-sync:latest';
const APP_SECRET = 'wdt-kingdee-secrets';
const CA_SECRET = 'wdt-kingdee-kafka-ca';
const CA_DIR = '/var/run/secrets/kafka-ca';
const CA_FILE = `${CA_DIR}/ca.crt`;
const SCHEMES_CONFIGMAP = 'wdt-kingdee-schemes';
const CONNECTION_SECRET = 'wdt-kingdee-connection-secrets';
/** The services that call WDT or Kingdee: they alone mount the connections' secrets. */
const CALLS_APIS = ['extractor', 'loader', 'reconciler'];
const PHASE_LABEL = 'wdt-kingdee.io/phase';
const APP_LABEL = { 'app.kubernetes.io/name': 'wdt-kingdee-sync' };
/**
 * Names a container may carry beyond its schema: the issue-15 contract's (read once every branch is
 * merged) and Node's own NODE_OPTIONS (heap settings per service).
 */
const CONTRACT_ENV = ['KAFKA_SSL_CA_FILE', 'LIVENESS_STALL_SECONDS', 'NODE_OPTIONS'];
const SECRETS: ReadonlySet<string> = new Set([...SECRET_ENV_VARS, 'DATABASE_MIGRATION_URL']);
/** Secrets that belong to connections (files of wdt-kingdee-connection-secrets), not to the app Secret. */
const CONNECTION_ENV_SECRETS = [
  'WDT_APPSECRET',
  'WDT_QIMEN_APP_SECRET',
  'KINGDEE_APP_SECRET',
  'KINGDEE_PASSWORD',
];
const SCALED_CONSUMERS: Partial<Record<ServiceName, TopicRole>> = {
  transformer: 'rawStockout',
  loader: 'kingdeeDocument',
};
/**
 * The external APIs each service may reach, by the placeholder address ranges network-policies.yaml
 * stands them in with (192.0.2.0/24 alerts, 198.51.100.0/24 Kingdee, 203.0.113.0/24 WDT).
 */
const API_RANGES: Record<string, string> = {
  '203.0.113.0/24': 'wdt',
  '198.51.100.0/24': 'kingdee',
  '192.0.2.0/24': 'alerts',
};
const EXTERNAL_APIS: Record<ServiceName, string[]> = {
  extractor: ['wdt'],
  transformer: [],
  loader: ['alerts', 'kingdee'],
  'audit-writer': ['alerts'],
  operator: [],
  reconciler: ['alerts', 'kingdee', 'wdt'],
};

// --- kubernetes-models: one class per apiVersion and kind ------------------------------------------

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
  'autoscaling/v2': autoscalingV2,
};
/** Custom resources kubernetes-models has no schema for: allowed, and named here on purpose. */
const CUSTOM_RESOURCES = new Set([
  'keda.sh/v1alpha1 ScaledObject',
  'keda.sh/v1alpha1 TriggerAuthentication',
  'kafka.strimzi.io/v1beta2 KafkaTopic',
  'kafka.strimzi.io/v1 KafkaTopic',
]);

/** Schema problems of one document ([] when valid). */
function schemaProblems(doc: K8sObject): string[] {
  const id = `${doc.apiVersion} ${doc.kind}`;
  if (CUSTOM_RESOURCES.has(id)) return [];
  const Model = MODELS[doc.apiVersion]?.[doc.kind] as ModelClass | undefined;
  if (!Model) return [`${id} ${doc.metadata?.name}: no kubernetes-models class (unknown kind)`];
  try {
    new Model(doc as never).validate();
    return [];
  } catch (err) {
    return [`${id} ${doc.metadata?.name}: ${(err as Error).message}`];
  }
}

// --- minimal shapes of what the rules read ---------------------------------------------------------

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}
interface EnvVar {
  name: string;
  value?: unknown;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
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
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; subPathExpr?: string }>;
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    volumes?: Volume[];
    automountServiceAccountToken?: boolean;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
}
interface NetworkPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface NetworkRule {
  to?: NetworkPeer[];
  from?: NetworkPeer[];
  ports?: Array<{ port?: number | string; protocol?: string }>;
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: NetworkRule[];
  egress?: NetworkRule[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Kustomization {
  kind?: string;
  resources?: string[];
  generatorOptions?: { labels?: Record<string, string> };
  configMapGenerator?: Array<{
    name: string;
    envs?: string[];
    files?: string[];
    options?: { disableNameSuffixHash?: boolean };
  }>;
  patches?: Array<{ patch?: string }>;
  replacements?: Array<{
    source: { kind: string; name: string; fieldPath: string };
    targets: Array<{ select: { kind: string; name?: string }; fieldPaths: string[] }>;
  }>;
}
interface Manifests {
  kustomization: Kustomization;
  objects: Array<K8sObject & { file: string }>;
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
  problems: string[];
}

// --- reading ---------------------------------------------------------------------------------------

function parseYaml(file: string, problems: string[]): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    for (const e of doc.errors) problems.push(`${relative(root, file)}: ${e.message}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

/** A kustomize `envs:` file: KEY=VALUE lines, `#` comments. */
function parseEnvFile(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    data[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return data;
}

function loadManifests(dir: string): Manifests {
  const problems: string[] = [];
  const [kustomization] = parseYaml(join(dir, 'kustomization.yaml'), problems) as Kustomization[];
  const objects: Manifests['objects'] = [];
  for (const resource of kustomization.resources ?? [])
    for (const doc of parseYaml(join(dir, resource), problems) as K8sObject[])
      objects.push({ ...doc, file: resource });
  const configMaps: Manifests['configMaps'] = new Map();
  for (const gen of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of gen.envs ?? []) Object.assign(data, parseEnvFile(join(dir, f)));
    for (const f of gen.files ?? []) data[basename(f)] = readFileSync(join(dir, f), 'utf8');
    configMaps.set(gen.name, data);
  }
  const secrets: Manifests['secrets'] = new Map();
  for (const o of objects) {
    if (o.kind === 'ConfigMap') configMaps.set(o.metadata.name, o.data ?? {});
    if (o.kind === 'Secret') secrets.set(o.metadata.name, { ...(o.data ?? {}), ...(o.stringData ?? {}) });
  }
  return { kustomization, objects, configMaps, secrets, problems };
}

/** Every YAML manifest under deploy/k8s: not kustomization files, env files, connections or scheme copies. */
function manifestFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return ['config', 'connections', 'schemes'].includes(name) && dir === K8S ? [] : manifestFiles(path);
    return /\.ya?ml$/.test(name) && name !== 'kustomization.yaml' ? [path] : [];
  });
}

const manifests = loadManifests(K8S);

// --- helpers ---------------------------------------------------------------------------------------

const byKind = (m: Manifests, kind: string) => m.objects.filter((o) => o.kind === kind);
const find = (m: Manifests, kind: string, name: string) =>
  m.objects.find((o) => o.kind === kind && o.metadata.name === name);
const podOf = (o: K8sObject) => (o.spec as { template: PodTemplate }).template;
const selects = (selector: LabelSelector | undefined, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** Pods that run this image: every Deployment, and the setup Job. */
function workloads(m: Manifests): Array<{ name: string; kind: string; pod: PodTemplate }> {
  return m.objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => ({ name: o.metadata.name, kind: o.kind, pod: podOf(o) }));
}

/** The environment of a container, with the source of each name. */
function resolveEnv(c: Container, m: Manifests): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const from of c.envFrom ?? []) {
    if (from.secretRef) problems.push(`envFrom secretRef ${from.secretRef.name}: use secretKeyRef per name`);
    const data = from.configMapRef && m.configMaps.get(from.configMapRef.name);
    if (!data) problems.push(`envFrom ${from.configMapRef?.name ?? '?'} does not exist`);
    for (const [name, value] of Object.entries(data ?? {})) {
      if (SECRETS.has(name)) problems.push(`secret ${name} comes from ConfigMap ${from.configMapRef?.name}`);
      if (name in env) problems.push(`${name} is set twice`);
      env[name] = value;
    }
  }
  for (const v of c.env ?? []) {
    const secretRef = v.valueFrom?.secretKeyRef;
    if (SECRETS.has(v.name) && !secretRef) problems.push(`secret ${v.name} is not a secretKeyRef`);
    if (secretRef && secretRef.name !== APP_SECRET)
      problems.push(`${v.name} reads Secret ${secretRef.name}, not ${APP_SECRET}`);
    if (v.name in env) problems.push(`${v.name} is set twice`);
    const ref = secretRef ?? v.valueFrom?.configMapKeyRef;
    const value = ref
      ? (secretRef ? m.secrets : m.configMaps).get(ref.name)?.[ref.key]
      : v.value === undefined
        ? undefined
        : String(v.value);
    if (value === undefined && !ref?.optional)
      problems.push(`${v.name}: no value (${ref?.name}/${ref?.key})`);
    if (value !== undefined) env[v.name] = value;
  }
  return { env, problems };
}

const portOf = (c: Container, port: number | string | undefined) =>
  typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;

/** The container's env as the service would see it, the CA path pointing at a local copy of the Secret's file. */
function withLocalCa(env: Record<string, string>, m: Manifests, dir: string): Record<string, string> {
  if (env.KAFKA_SSL_CA_FILE !== CA_FILE) return env;
  const file = join(dir, 'ca.crt');
  writeFileSync(file, m.secrets.get(CA_SECRET)?.['ca.crt'] ?? '');
  return { ...env, KAFKA_SSL_CA_FILE: file };
}

// --- the project's rules ---------------------------------------------------------------------------

/** A service's Deployment: image, command, env known and valid, secrets, probes, limits. */
function deploymentProblems(service: ServiceName, m: Manifests): string[] {
  const d = find(m, 'Deployment', service);
  if (!d) return [`no Deployment ${service}`];
  const p: string[] = [];
  const pod = podOf(d);
  const c = pod.spec.containers[0];
  if (pod.spec.containers.length !== 1) p.push('expected one container');
  if (c.image !== IMAGE) p.push(`image ${c.image}, expected ${IMAGE}`);
  const command = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
  const expected = ['node', ...serviceNodeFlags(service), `dist/apps/${service}/src/main.js`].join(' ');
  if (command !== expected) p.push(`command "${command}", expected "${expected}"`);
  const { env, problems } = resolveEnv(c, m);
  p.push(...problems);
  const known = new Set([...Object.keys(SERVICE_ENV[service]), ...CONTRACT_ENV]);
  for (const name of Object.keys(env))
    if (!known.has(name)) p.push(`${name} is not a variable of ${service}`);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-ca-'));
  try {
    const config = loadServiceConfig(service, withLocalCa(env, m, dir)) as { HTTP_PORT: number };
    const port = c.ports?.find((x) => x.name === 'http')?.containerPort;
    if (port !== config.HTTP_PORT) p.push(`containerPort ${port}, HTTP_PORT ${config.HTTP_PORT}`);
  } catch (err) {
    p.push(`env does not validate: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const probes: Array<[string, Probe | undefined, string]> = [
    ['livenessProbe', c.livenessProbe, '/health'],
    ['readinessProbe', c.readinessProbe, '/ready'],
  ];
  for (const [what, probe, path] of probes) {
    if (probe?.httpGet?.path !== path) p.push(`${what} must GET ${path}`);
    if (portOf(c, probe?.httpGet?.port) !== portOf(c, 'http')) p.push(`${what} must use the http port`);
  }
  if (!c.resources?.limits?.memory) p.push('no memory limit');
  if (SCALED_CONSUMERS[service] && (d.spec as { replicas?: number }).replicas !== undefined)
    p.push('spec.replicas is set although an autoscaler owns it');
  return p.map((x) => `${service}: ${x}`);
}

/** Every pod of the image reaches Kafka with TLS (the CA Secret mounted) and SASL (password from the app Secret). */
function kafkaSecurityProblems(m: Manifests): string[] {
  const p: string[] = [];
  for (const { name, pod } of workloads(m)) {
    const c = pod.spec.containers[0];
    const { env } = resolveEnv(c, m);
    if (env.KAFKA_SSL_CA_FILE !== CA_FILE) p.push(`${name}: KAFKA_SSL_CA_FILE is not ${CA_FILE}`);
    if (!env.KAFKA_SASL_MECHANISM || !env.KAFKA_SASL_USERNAME) p.push(`${name}: no SASL mechanism/user`);
    const password = c.env?.find((e) => e.name === 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef;
    if (password?.name !== APP_SECRET || password.key !== 'KAFKA_SASL_PASSWORD' || password.optional)
      p.push(`${name}: KAFKA_SASL_PASSWORD must be a required secretKeyRef into ${APP_SECRET}`);
    const mount = c.volumeMounts?.find((v) => v.mountPath === CA_DIR);
    const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
    if (mount?.subPath || volume?.secret?.secretName !== CA_SECRET)
      p.push(`${name}: Secret ${CA_SECRET} is not mounted at ${CA_DIR}`);
    else if (
      volume.secret.items &&
      !volume.secret.items.some((i) => i.key === 'ca.crt' && i.path === 'ca.crt')
    )
      p.push(`${name}: ${CA_SECRET} key ca.crt is not mounted as ca.crt`);
  }
  if (!m.secrets.get(CA_SECRET)?.['ca.crt']) p.push(`Secret ${CA_SECRET} has no ca.crt`);
  return p;
}

/** The scheme ConfigMap is mounted as a directory at SCHEMES_DIR (no subPath), and updated in place. */
function schemeMountProblems(m: Manifests): string[] {
  const p: string[] = [];
  const gen = m.kustomization.configMapGenerator?.find((g) => g.name === SCHEMES_CONFIGMAP);
  if (!gen?.options?.disableNameSuffixHash)
    p.push(`${SCHEMES_CONFIGMAP}: disableNameSuffixHash (a hashed name rolls the pods on every edit)`);
  for (const { name, pod } of workloads(m)) {
    const c = pod.spec.containers[0];
    for (const mt of c.volumeMounts ?? [])
      if (mt.subPath || mt.subPathExpr) p.push(`${name}: ${mt.mountPath} is mounted with subPath`);
    const schemesDir = resolveEnv(c, m).env.SCHEMES_DIR;
    const reads = pod.spec.volumes?.some((v) => v.configMap?.name === SCHEMES_CONFIGMAP);
    if (!reads) continue;
    const mount = c.volumeMounts?.find((mt) => mt.mountPath === schemesDir);
    const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
    if (volume?.configMap?.name !== SCHEMES_CONFIGMAP)
      p.push(`${name}: ${SCHEMES_CONFIGMAP} is not mounted at SCHEMES_DIR (${schemesDir})`);
  }
  for (const service of SERVICES.filter((s) => s !== 'audit-writer')) {
    const d = find(m, 'Deployment', service);
    if (d && !podOf(d).spec.volumes?.some((v) => v.configMap?.name === SCHEMES_CONFIGMAP))
      p.push(`${service}: reads schemes but has no ${SCHEMES_CONFIGMAP} volume`);
  }
  return p;
}

/** Every Deployment has exactly one PodDisruptionBudget, which selects no other pods. */
function pdbProblems(m: Manifests): string[] {
  const p: string[] = [];
  const pdbs = byKind(m, 'PodDisruptionBudget');
  for (const d of byKind(m, 'Deployment')) {
    const labels = podOf(d).metadata?.labels ?? {};
    const covering = pdbs.filter((b) => selects((b.spec as { selector: LabelSelector }).selector, labels));
    if (covering.length !== 1) p.push(`${d.metadata.name}: ${covering.length} PodDisruptionBudgets`);
  }
  for (const b of pdbs) {
    const spec = b.spec as { selector: LabelSelector; minAvailable?: unknown; maxUnavailable?: unknown };
    const matched = byKind(m, 'Deployment').filter((d) =>
      selects(spec.selector, podOf(d).metadata?.labels ?? {}),
    );
    if (matched.length !== 1) p.push(`PDB ${b.metadata.name} selects ${matched.length} Deployments`);
    if (spec.minAvailable === undefined && spec.maxUnavailable === undefined)
      p.push(`PDB ${b.metadata.name}: neither minAvailable nor maxUnavailable`);
  }
  return p;
}

/**
 * NetworkPolicies: a default deny for both directions; every pod of the image may reach DNS, Kafka and
 * Postgres; each service exactly its own external APIs, never "anywhere"; ingress only to the operator
 * (from the ingress controller) and for metrics scraping.
 */
function networkPolicyProblems(m: Manifests): string[] {
  const p: string[] = [];
  const policies = byKind(m, 'NetworkPolicy').map((o) => ({
    name: o.metadata.name,
    ...(o.spec as unknown as NetworkPolicySpec),
  }));
  const deny = policies.find(
    (x) =>
      Object.keys(x.podSelector.matchLabels ?? {}).length === 0 &&
      ['Ingress', 'Egress'].every((t) => x.policyTypes?.includes(t)) &&
      !x.ingress?.length &&
      !x.egress?.length,
  );
  if (!deny) p.push('no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)');
  for (const x of policies) {
    for (const rule of [...(x.egress ?? []), ...(x.ingress ?? [])]) {
      const peers = rule.to ?? rule.from;
      if (!peers?.length) p.push(`${x.name}: a rule without peers allows everything`);
      if (!rule.ports?.length) p.push(`${x.name}: a rule without ports allows every port`);
      for (const peer of peers ?? [])
        if (peer.ipBlock?.cidr === '0.0.0.0/0' || peer.ipBlock?.cidr === '::/0')
          p.push(`${x.name}: egress to anywhere (${peer.ipBlock.cidr})`);
    }
  }
  const namespaceOf = (peer: NetworkPeer) =>
    peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
  for (const { name, pod } of workloads(m)) {
    const labels = pod.metadata?.labels ?? {};
    const mine = policies.filter((x) => selects(x.podSelector, labels));
    const egress = mine.flatMap((x) => x.egress ?? []);
    const reaches = (ns: string, port: number) =>
      egress.some(
        (r) => r.to?.some((peer) => namespaceOf(peer) === ns) && r.ports?.some((x) => x.port === port),
      );
    if (!reaches('kube-system', 53)) p.push(`${name}: no DNS egress`);
    const kafkaPort = Number(resolveEnv(pod.spec.containers[0], m).env.KAFKA_BROKERS?.split(':').pop());
    if (
      !egress.some(
        (r) => r.ports?.some((x) => x.port === kafkaPort) && r.to?.some((peer) => peer.podSelector),
      )
    )
      p.push(`${name}: no egress to Kafka (port ${kafkaPort})`);
    if (!egress.some((r) => r.ports?.some((x) => x.port === 5432) && r.to?.some((peer) => peer.podSelector)))
      p.push(`${name}: no egress to Postgres`);
    const apis = [
      ...new Set(
        egress
          .flatMap((r) => r.to ?? [])
          .flatMap((peer) => (peer.ipBlock ? [API_RANGES[peer.ipBlock.cidr] ?? peer.ipBlock.cidr] : [])),
      ),
    ].sort();
    const component = labels['app.kubernetes.io/component'] as ServiceName;
    const wanted = EXTERNAL_APIS[component] ?? [];
    if (apis.join() !== wanted.join()) p.push(`${name}: external egress [${apis}], expected [${wanted}]`);
    const ingressFrom = mine
      .flatMap((x) => x.ingress ?? [])
      .flatMap((r) => r.from ?? [])
      .map(namespaceOf);
    const allowed = component === 'operator' ? ['ingress-nginx', 'monitoring'] : ['monitoring'];
    for (const ns of ingressFrom)
      if (!ns || !allowed.includes(ns)) p.push(`${name}: ingress from ${ns ?? 'a peer without namespace'}`);
    if (component === 'operator' && !ingressFrom.includes('ingress-nginx'))
      p.push('operator: not reachable from the ingress controller');
  }
  return p;
}

/** The setup Job: DDL user, Kafka credentials, cleaned up after it finished. */
function jobProblems(m: Manifests): string[] {
  const jobs = byKind(m, 'Job');
  if (jobs.length !== 1) return [`${jobs.length} Jobs, expected the setup Job`];
  const p: string[] = [];
  const spec = jobs[0].spec as { ttlSecondsAfterFinished?: number; template: PodTemplate };
  if (!(Number(spec.ttlSecondsAfterFinished) > 0)) p.push('setup Job: no ttlSecondsAfterFinished');
  const c = spec.template.spec.containers[0];
  const db = c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
  if (db?.name !== APP_SECRET || db.key !== 'DATABASE_MIGRATION_URL')
    p.push('setup Job: DATABASE_URL must come from the Secret key DATABASE_MIGRATION_URL (the DDL user)');
  const { env, problems } = resolveEnv(c, m);
  p.push(...problems.map((x) => `setup Job: ${x}`));
  // What migrate and provision-topics read: the common settings and the provisioning's TOPIC_* ones
  // (replication, per-topic partitions / retention / ISR: provisioning validates those itself).
  const allowed = new Set([...Object.keys(commonEnv), ...CONTRACT_ENV]);
  for (const name of Object.keys(env))
    if (!allowed.has(name) && !/^TOPIC_[A-Z0-9_]+$/.test(name))
      p.push(`setup Job: ${name} is not read by it`);
  return p;
}

/** The operator/console behind an Ingress with TLS for every host, to the operator Service. */
function ingressProblems(m: Manifests): string[] {
  const p: string[] = [];
  const ingresses = byKind(m, 'Ingress');
  if (ingresses.length === 0) p.push('no Ingress for the operator');
  for (const ing of ingresses) {
    const spec = ing.spec as {
      tls?: Array<{ hosts?: string[]; secretName?: string }>;
      rules?: Array<{
        host?: string;
        http?: {
          paths: Array<{ backend: { service?: { name: string; port: { name?: string; number?: number } } } }>;
        };
      }>;
    };
    const tlsHosts = (spec.tls ?? []).filter((t) => t.secretName).flatMap((t) => t.hosts ?? []);
    for (const rule of spec.rules ?? []) {
      if (!rule.host || !tlsHosts.includes(rule.host))
        p.push(`Ingress ${ing.metadata.name}: ${rule.host ?? '(any host)'} without TLS`);
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        const svc = backend && find(m, 'Service', backend.name);
        const ports =
          (svc?.spec as { ports?: Array<{ name?: string; port: number }> } | undefined)?.ports ?? [];
        if (
          backend?.name !== 'operator' ||
          !ports.some((x) => x.name === backend.port.name || x.port === backend.port.number)
        )
          p.push(`Ingress ${ing.metadata.name}: backend is not the operator Service's port`);
      }
    }
  }
  return p;
}

/**
 * Every pod of the image: non-root with a numeric uid, read-only root filesystem, no privilege
 * escalation, no capabilities, no service account token; the connections' secrets only in the pods
 * that call WDT or Kingdee; services scraped on their HTTP port and given time to finish a call.
 */
function podSecurityProblems(m: Manifests): string[] {
  const p: string[] = [];
  for (const { name, pod } of workloads(m)) {
    const c = pod.spec.containers[0];
    const psc = pod.spec.securityContext ?? {};
    if (psc.runAsNonRoot !== true || !(Number(psc.runAsUser) > 0))
      p.push(`${name}: not runAsNonRoot with a uid`);
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true || sc.allowPrivilegeEscalation !== false)
      p.push(`${name}: root filesystem writable or privilege escalation allowed`);
    if (!sc.capabilities?.drop?.includes('ALL')) p.push(`${name}: capabilities not dropped`);
    if (pod.spec.automountServiceAccountToken !== false) p.push(`${name}: service account token mounted`);
    const secrets = pod.spec.volumes?.some((v) => v.secret?.secretName === CONNECTION_SECRET) ?? false;
    const component = pod.metadata?.labels?.['app.kubernetes.io/component'] ?? '';
    if (secrets !== CALLS_APIS.includes(component)) p.push(`${name}: connection secrets mounted: ${secrets}`);
  }
  for (const service of SERVICES) {
    const d = find(m, 'Deployment', service);
    if (!d) continue;
    const pod = podOf(d);
    const ann = pod.metadata?.annotations ?? {};
    const port = portOf(pod.spec.containers[0], 'http');
    if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/port'] !== String(port))
      p.push(`${service}: not annotated for scraping on ${port}`);
    // The loader hands writes in flight to settling within LOADER_SHUTDOWN_GRACE_MS; the extractor
    // and reconciler finish a WDT call (WDT_TIMEOUT_MS). The pod's grace must outlast that.
    const { env } = resolveEnv(pod.spec.containers[0], m);
    const stopMs =
      service === 'loader'
        ? Number(env.LOADER_SHUTDOWN_GRACE_MS ?? 25_000)
        : service === 'extractor' || service === 'reconciler'
          ? Number(env.WDT_TIMEOUT_MS ?? 30_000)
          : 0;
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    if (grace < Math.max(30, Math.ceil(stopMs / 1000) + 15))
      p.push(`${service}: terminationGracePeriodSeconds ${grace} too short`);
  }
  return p;
}

function groupIdOf(service: ServiceName, m: Manifests): string {
  const d = find(m, 'Deployment', service);
  return (d && resolveEnv(podOf(d).spec.containers[0], m).env.KAFKA_GROUP_ID) || `wdt-kingdee.${service}`;
}

function partitionsOf(role: TopicRole, m: Manifests): number {
  const spec = TOPIC_CATALOGUE[role];
  return Number(m.configMaps.get('wdt-kingdee-setup')?.[`${spec.envVar}_PARTITIONS`] ?? spec.partitions);
}

// --- the tests -------------------------------------------------------------------------------------

describe('deploy/k8s: Kubernetes API schemas (kubernetes-models)', () => {
  const files = manifestFiles(K8S);

  it('finds the manifests, and the base lists every file of its directory', () => {
    expect(manifests.problems).toEqual([]);
    const listed = new Set(manifests.kustomization.resources);
    const own = files.filter((f) => dirname(f) === K8S).map((f) => basename(f));
    expect(own.filter((f) => !listed.has(f))).toEqual([]);
    expect(files.length).toBeGreaterThan(10);
  });

  it('validates every document of every manifest against its kind', () => {
    const problems: string[] = [];
    let validated = 0;
    for (const file of files)
      for (const doc of parseYaml(file, problems) as K8sObject[]) {
        problems.push(...schemaProblems(doc).map((x) => `${relative(K8S, file)}: ${x}`));
        validated += 1;
      }
    expect(problems).toEqual([]);
    expect(validated).toBeGreaterThanOrEqual(manifests.objects.length);
  });

  it('validates the generated ConfigMaps', () => {
    for (const [name, data] of manifests.configMaps)
      expect(schemaProblems({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data })).toEqual([]);
  });
});

describe("deploy/k8s: the project's rules", () => {
  it('has one Deployment per service', () => {
    expect(
      byKind(manifests, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([...SERVICES].sort());
  });

  it.each(SERVICES)('%s: image, command, env known and valid, secrets by secretKeyRef, probes', (service) => {
    expect(deploymentProblems(service, manifests)).toEqual([]);
  });

  it('gives every Deployment a PodDisruptionBudget', () => {
    expect(pdbProblems(manifests)).toEqual([]);
  });

  it('denies by default; services reach DNS, Kafka, Postgres and only their own API', () => {
    expect(networkPolicyProblems(manifests)).toEqual([]);
  });

  it('gives services and the setup Job the Kafka CA and the SASL password', () => {
    expect(kafkaSecurityProblems(manifests)).toEqual([]);
  });

  it('mounts the scheme ConfigMap as a directory, without subPath', () => {
    expect(schemeMountProblems(manifests)).toEqual([]);
  });

  it('runs the setup Job as the DDL user, with a ttl', () => {
    expect(jobProblems(manifests)).toEqual([]);
  });

  it('runs every pod locked down, connection secrets only where needed, scraped, with enough grace', () => {
    expect(podSecurityProblems(manifests)).toEqual([]);
  });

  it('exposes the operator/console through an Ingress with TLS', () => {
    expect(ingressProblems(manifests)).toEqual([]);
  });

  it('keeps every secret in a Secret, as a REPLACE_ME placeholder', () => {
    const app = manifests.secrets.get(APP_SECRET)!;
    expect(Object.keys(app).sort()).toEqual(
      [...SECRETS].filter((n) => !CONNECTION_ENV_SECRETS.includes(n)).sort(),
    );
    for (const [secret, data] of manifests.secrets)
      for (const [key, value] of Object.entries(data))
        expect([secret, key, value === '' || value.includes('REPLACE_ME')]).toEqual([secret, key, true]);
  });

  it('applies the setup Job, what it reads and the NetworkPolicies in the setup phase, nothing else', () => {
    const phase = (o: K8sObject) => o.metadata.labels?.[PHASE_LABEL];
    const early = [
      ...new Set(manifests.objects.filter((o) => phase(o) === 'setup').map((o) => o.kind)),
    ].sort();
    expect(early).toEqual(['Job', 'Namespace', 'NetworkPolicy', 'Secret']);
    expect(manifests.kustomization.generatorOptions?.labels?.[PHASE_LABEL]).toBe('setup');
  });

  it('ships scheme copies identical to schemes/*.yaml', () => {
    const isScheme = (f: string) => /\.ya?ml$/.test(f);
    const originals = readdirSync(join(root, 'schemes')).filter(isScheme).sort();
    expect(originals.length).toBeGreaterThan(0);
    expect(readdirSync(join(K8S, 'schemes')).filter(isScheme).sort()).toEqual(originals);
    for (const f of originals)
      expect(readFileSync(join(K8S, 'schemes', f), 'utf8')).toBe(
        readFileSync(join(root, 'schemes', f), 'utf8'),
      );
    expect(Object.keys(manifests.configMaps.get(SCHEMES_CONFIGMAP) ?? {}).sort()).toEqual(originals);
  });

  it('gives every consumer its own group and autoscales within the input partitions', () => {
    const groups = (['transformer', 'loader', 'audit-writer'] as ServiceName[]).map((s) =>
      groupIdOf(s, manifests),
    );
    expect(new Set(groups).size).toBe(groups.length);
    const targets = byKind(manifests, 'HorizontalPodAutoscaler').map((h) => {
      const spec = h.spec as { scaleTargetRef: { name: ServiceName }; maxReplicas: number };
      const role = SCALED_CONSUMERS[spec.scaleTargetRef.name];
      expect([spec.scaleTargetRef.name, spec.maxReplicas <= partitionsOf(role!, manifests)]).toEqual([
        spec.scaleTargetRef.name,
        true,
      ]);
      return spec.scaleTargetRef.name;
    });
    expect(targets.sort()).toEqual(Object.keys(SCALED_CONSUMERS).sort());
  });
});

describe('deploy/k8s/optional/keda (kustomize component)', () => {
  const component = loadManifests(join(K8S, 'optional/keda'));

  it('scales transformer and loader on their group and input topic, copied from the ConfigMap', () => {
    expect(component.kustomization.kind).toBe('Component');
    const services = byKind(component, 'ScaledObject').map((so) => {
      const spec = so.spec as {
        scaleTargetRef: { name: ServiceName };
        maxReplicaCount: number;
        triggers: Array<{ type: string; metadata: Record<string, string> }>;
      };
      const service = spec.scaleTargetRef.name;
      const role = SCALED_CONSUMERS[service]!;
      const kafka = spec.triggers.find((t) => t.type === 'kafka')?.metadata;
      expect([service, kafka?.consumerGroup, kafka?.topic]).toEqual([
        service,
        groupIdOf(service, manifests),
        TOPIC_CATALOGUE[role].defaultName,
      ]);
      expect(spec.maxReplicaCount).toBeLessThanOrEqual(partitionsOf(role, manifests));
      const copied = (key: string) =>
        (component.kustomization.replacements ?? []).some(
          (r) => r.source.name === 'wdt-kingdee-common' && r.source.fieldPath === `data.${key}`,
        );
      expect([service, copied(TOPIC_CATALOGUE[role].envVar), copied('KAFKA_BROKERS')]).toEqual([
        service,
        true,
        true,
      ]);
      return service;
    });
    expect(services.sort()).toEqual(Object.keys(SCALED_CONSUMERS).sort());
    const deleted = (component.kustomization.patches ?? []).map(
      (x) => (parseAllDocuments(x.patch ?? '')[0].toJS() as { metadata: { name: string } }).metadata.name,
    );
    expect(deleted.sort()).toEqual(
      byKind(manifests, 'HorizontalPodAutoscaler')
        .map((h) => h.metadata.name)
        .sort(),
    );
  });
});

describe('the rules catch the mistakes they exist for', () => {
  const mutated = (change: (m: Manifests) => void): Manifests => {
    const copy = structuredClone(manifests);
    change(copy);
    return copy;
  };
  const container = (m: Manifests, kind: string, name: string) =>
    podOf(find(m, kind, name)!).spec.containers[0];

  it('a document that does not match its schema, or an unknown kind', () => {
    const d = structuredClone(find(manifests, 'Deployment', 'loader')!);
    podOf(d).spec.containers[0].ports![0].containerPort = 'http' as unknown as number;
    expect(schemaProblems(d).join()).toMatch(/containerPort must be integer/);
    expect(schemaProblems({ ...d, apiVersion: 'apps/v1beta9' }).join()).toMatch(/unknown kind/);
  });

  it('a Deployment without a PodDisruptionBudget', () => {
    const m = mutated((x) => {
      x.objects = x.objects.filter(
        (o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'loader'),
      );
    });
    expect(pdbProblems(m)).toEqual(['loader: 0 PodDisruptionBudgets']);
  });

  it('no default deny, an egress to anywhere, or a service reaching an API that is not its own', () => {
    const m = mutated((x) => {
      x.objects = x.objects.filter((o) => o.metadata.name !== 'default-deny');
      const wdt = find(x, 'NetworkPolicy', 'extractor-egress-wdt')!.spec as unknown as NetworkPolicySpec;
      wdt.podSelector.matchLabels = APP_LABEL;
      wdt.egress![0].to!.push({ ipBlock: { cidr: '0.0.0.0/0' } });
    });
    const text = networkPolicyProblems(m).join('\n');
    expect(text).toMatch(/no default-deny/);
    expect(text).toMatch(/egress to anywhere \(0\.0\.0\.0\/0\)/);
    expect(text).toMatch(/transformer: external egress \[0\.0\.0\.0\/0,wdt\], expected \[\]/);
  });

  it('a pod without DNS, Kafka or Postgres egress', () => {
    const m = mutated((x) => {
      x.objects = x.objects.filter((o) => o.metadata.name !== 'allow-kafka-postgres');
    });
    expect(networkPolicyProblems(m).join('\n')).toMatch(/setup: no egress to Kafka \(port 9093\)/);
  });

  it('a scheme mounted by subPath, or a hashed scheme ConfigMap', () => {
    const m = mutated((x) => {
      const c = container(x, 'Deployment', 'transformer');
      const mount = c.volumeMounts!.find((v) => v.name === 'schemes')!;
      mount.mountPath = '/app/schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml';
      mount.subPath = 'wdt-stockout-return-to-kingdee-pur-mrb.yaml';
      delete x.kustomization.configMapGenerator!.find((g) => g.name === SCHEMES_CONFIGMAP)!.options;
    });
    const text = schemeMountProblems(m).join('\n');
    expect(text).toMatch(
      /transformer: \/app\/schemes\/wdt-stockout-return-to-kingdee-pur-mrb.yaml is mounted with subPath/,
    );
    expect(text).toMatch(/transformer: wdt-kingdee-schemes is not mounted at SCHEMES_DIR/);
    expect(text).toMatch(/disableNameSuffixHash/);
  });

  it('a secret given as a value or from a ConfigMap', () => {
    const m = mutated((x) => {
      const env = container(x, 'Deployment', 'operator').env!.find((e) => e.name === 'OPERATOR_TOKENS')!;
      delete env.valueFrom;
      env.value = 'ops:admin:0123456789abcdef01';
      x.configMaps.get('wdt-kingdee-loader')!.KAFKA_SASL_PASSWORD = 'pw';
    });
    expect(deploymentProblems('operator', m).join('\n')).toMatch(
      /secret OPERATOR_TOKENS is not a secretKeyRef/,
    );
    expect(deploymentProblems('loader', m).join('\n')).toMatch(
      /secret KAFKA_SASL_PASSWORD comes from ConfigMap/,
    );
  });

  it('a wrong probe path, or an env name the schema does not know', () => {
    const m = mutated((x) => {
      container(x, 'Deployment', 'loader').livenessProbe!.httpGet!.path = '/ready';
      x.configMaps.get('wdt-kingdee-loader')!.LOADER_BATCH_SIZ = '20';
    });
    const text = deploymentProblems('loader', m).join('\n');
    expect(text).toMatch(/livenessProbe must GET \/health/);
    expect(text).toMatch(/LOADER_BATCH_SIZ is not a variable of loader/);
  });

  it('a setup Job without ttl, as the services’ DML user, or without the Kafka CA', () => {
    const m = mutated((x) => {
      const job = find(x, 'Job', 'setup')!;
      delete (job.spec as { ttlSecondsAfterFinished?: number }).ttlSecondsAfterFinished;
      const c = podOf(job).spec.containers[0];
      c.env!.find((e) => e.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef!.key = 'DATABASE_URL';
      c.volumeMounts = c.volumeMounts!.filter((v) => v.mountPath !== CA_DIR);
      x.configMaps.get('wdt-kingdee-setup')!.LOADER_BATCH_SIZE = '20';
    });
    expect(jobProblems(m).join('\n')).toMatch(/no ttlSecondsAfterFinished[\s\S]*DATABASE_MIGRATION_URL/);
    expect(jobProblems(m).join('\n')).toMatch(/LOADER_BATCH_SIZE is not read by it/);
    expect(kafkaSecurityProblems(m)).toEqual([`setup: Secret ${CA_SECRET} is not mounted at ${CA_DIR}`]);
  });

  it('a writable root filesystem, connection secrets in the operator, or a short grace period', () => {
    const m = mutated((x) => {
      const op = podOf(find(x, 'Deployment', 'operator')!).spec;
      op.containers[0].securityContext!.readOnlyRootFilesystem = false;
      op.volumes!.push({ name: 'cs', secret: { secretName: CONNECTION_SECRET } });
      podOf(find(x, 'Deployment', 'loader')!).spec.terminationGracePeriodSeconds = 30;
    });
    expect(podSecurityProblems(m)).toEqual([
      'operator: root filesystem writable or privilege escalation allowed',
      'operator: connection secrets mounted: true',
      'loader: terminationGracePeriodSeconds 30 too short',
    ]);
  });

  it('an Ingress host without TLS', () => {
    const m = mutated((x) => {
      (find(x, 'Ingress', 'operator')!.spec as { tls?: unknown }).tls = [];
    });
    expect(ingressProblems(m).join()).toMatch(/without TLS/);
  });
});
