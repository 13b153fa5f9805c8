import { resolve } from 'node:path';
import { defineConfig, type ProxyOptions } from 'vite';

// The console is served by the operator at `/` in production; `vite` / `vite preview` proxy `/api`
// to an operator for local work. CONSOLE_DEV_TOKEN (dev only, never in the bundle) lets the proxy
// sign requests with a bearer token where the operator has no session endpoint yet.
const apiTarget = process.env.CONSOLE_API_TARGET ?? 'http://127.0.0.1:3000';
const devToken = process.env.CONSOLE_DEV_TOKEN;
const proxy: Record<string, ProxyOptions> = {
  '/api': {
    target: apiTarget,
    changeOrigin: true,
    configure: (server) => {
      if (!devToken) return;
      server.on('proxyReq', (req) => req.setHeader('Authorization', `Bearer ${devToken}`));
    },
  },
};

export default defineConfig({
  root: __dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: resolve(__dirname, '../../dist/console'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
    rollupOptions: {
      // antd marks modules "use client" (for React Server Components); meaningless in this bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy },
  preview: { proxy },
  logLevel: 'warn',
});
