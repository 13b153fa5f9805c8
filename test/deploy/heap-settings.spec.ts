import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_HEAP_MB, SERVICE_MEMORY_LIMIT_MI, serviceNodeOptions } from '@libs/common';

const ROOT = path.resolve(__dirname, '../..');
const SERVICES = Object.keys(SERVICE_HEAP_MB);

interface Container {
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: { memory?: string }; requests?: { memory?: string } };
}

/** The measured heap caps (SERVICE_HEAP_MB) and memory limits reach every way a service is run. */
describe('heap cap and memory limit per service', () => {
  it('covers every service, with room for code and Buffers beside the heap', () => {
    expect(SERVICES.sort()).toEqual(
      ['audit-writer', 'extractor', 'loader', 'operator', 'reconciler', 'transformer'].sort(),
    );
    for (const s of SERVICES)
      expect([s, SERVICE_MEMORY_LIMIT_MI[s] - SERVICE_HEAP_MB[s] >= 128]).toEqual([s, true]);
  });

  it.each(SERVICES)('deploy/k8s/%s.yaml runs with its heap cap and memory limit', (service) => {
    const docs = parseAllDocuments(
      readFileSync(path.join(ROOT, 'deploy/k8s', `${service}.yaml`), 'utf8'),
    ).map((d) => d.toJS() as { kind: string; spec?: { template?: { spec?: { containers?: Container[] } } } });
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const container = deployment.spec!.template!.spec!.containers![0];
    expect(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(serviceNodeOptions(service));
    expect(container.resources?.limits?.memory).toBe(`${SERVICE_MEMORY_LIMIT_MI[service]}Mi`);
  });

  it('docker-compose.yml runs both profiles with the same caps, production with the memory limits', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, unknown>; mem_limit?: string }>;
    };
    for (const service of SERVICES) {
      expect([service, compose.services[service].environment?.NODE_OPTIONS]).toEqual([
        service,
        serviceNodeOptions(service),
      ]);
      const prod = compose.services[`${service}-production`];
      expect([service, prod.environment?.NODE_OPTIONS, prod.mem_limit]).toEqual([
        service,
        serviceNodeOptions(service),
        `${SERVICE_MEMORY_LIMIT_MI[service]}m`,
      ]);
    }
  });
});
