#!/usr/bin/env node
// Samples the memory of every running service of this repository (processes started from
// dist/apps/<service>/src/main.js, e.g. by `npm run bench:pipeline` or the e2e tests): peak RSS
// (/proc VmHWM) and peak V8 heap used / heap total (the service's own /metrics, port from its
// environment). Run it beside a benchmark; it prints a table on exit (Ctrl-C or --seconds N).
//
//   node scripts/heap-sample.js [--seconds 600] [--interval-ms 250]
// The figures set each service's heap cap and memory limit (docs/benchmarks.md, "Heap per service").
'use strict';
/* global fetch, AbortSignal */
const fs = require('node:fs');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('--seconds', 0);
const intervalMs = arg('--interval-ms', 250);
const peaks = new Map(); // service -> { rssMb, heapUsedMb, heapTotalMb, pids:Set }

function services() {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const script = cmd.find((c) => /dist\/apps\/[a-z-]+\/src\/main\.js$/.test(c));
      if (!script) continue;
      const service = /dist\/apps\/([a-z-]+)\//.exec(script)[1];
      if (service.endsWith('-sandbox')) continue;
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const port = (env.find((e) => e.startsWith('HTTP_PORT=')) || '').slice(10);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
      const heapCap = /--max-old-space-size=(\d+)/.exec(cmd.join(' ') + ' ' + env.join(' '))?.[1];
      out.push({ pid, service, port, hwm, heapCap });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function heap(port) {
  if (!port) return undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
    const text = await res.text();
    const used = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
    const total = /^nodejs_heap_size_total_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
    return { used: Number(used) / 1048576, total: Number(total) / 1048576 };
  } catch {
    return undefined;
  }
}

async function sample() {
  for (const s of services()) {
    const p = peaks.get(s.service) ?? {
      rssMb: 0,
      heapUsedMb: 0,
      heapTotalMb: 0,
      pids: new Set(),
      heapCap: s.heapCap,
    };
    p.pids.add(s.pid);
    p.rssMb = Math.max(p.rssMb, s.hwm);
    const h = await heap(s.port);
    if (h && Number.isFinite(h.used) && Number.isFinite(h.total)) {
      p.heapUsedMb = Math.max(p.heapUsedMb, h.used);
      p.heapTotalMb = Math.max(p.heapTotalMb, h.total);
    }
    peaks.set(s.service, p);
  }
}

function report() {
  const rows = [...peaks].sort(([a], [b]) => a.localeCompare(b));
  console.log('service        processes  peak RSS (VmHWM)  peak V8 heap used  peak V8 heap total  heap cap');
  for (const [service, p] of rows)
    console.log(
      `${service.padEnd(14)} ${String(p.pids.size).padStart(9)}  ${p.rssMb.toFixed(1).padStart(13)} MB  ${p.heapUsedMb
        .toFixed(1)
        .padStart(
          14,
        )} MB  ${p.heapTotalMb.toFixed(1).padStart(15)} MB  ${p.heapCap ? `${p.heapCap} MB` : 'none'}`,
    );
  process.exit(0);
}

process.on('SIGINT', report);
process.on('SIGTERM', report);
const started = Date.now();
(async function loop() {
  for (;;) {
    await sample();
    if (seconds > 0 && Date.now() - started > seconds * 1000) report();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
})();
