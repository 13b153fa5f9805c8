import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** The Dockerfile's stages, in order (`FROM <image> AS <name>` opens one). */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1], name: from[2] ?? `stage${out.length}`, lines: [] });
    else out[out.length - 1]?.lines.push(line);
  }
  return out;
}

describe('Dockerfile: the production image carries production code and dependencies only', () => {
  const all = stages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const byName = new Map(all.map((s) => [s.name, s]));

  it('builds the runtime image by default (last stage) from a pruned build', () => {
    const runtime = all[all.length - 1];
    expect(runtime.name).toBe('runtime');
    const prune = byName.get('prune')!;
    expect(prune.lines.join('\n')).toMatch(/npm prune --omit=dev/);
    expect(prune.lines.join('\n')).toMatch(/rm -rf dist\/apps\/wdt-sandbox dist\/apps\/kingdee-sandbox/);
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    expect(copies.find((l) => l.includes('node_modules'))).toMatch(/--from=prune/);
    expect(copies.find((l) => l.includes(' ./dist'))).toMatch(/--from=prune/);
    expect(runtime.lines).toContain('USER node');
  });

  it('has the sandbox target compose builds for its sandbox profile, and the runtime one for production', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: { target?: string } }>;
    };
    const targets = Object.values(compose.services)
      .map((s) => s.build?.target)
      .filter(Boolean);
    expect(targets.sort()).toEqual(['runtime', 'sandbox']);
    for (const t of targets) expect(byName.has(t!)).toBe(true);
  });
});
