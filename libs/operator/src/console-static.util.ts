import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServeStaticModuleOptions } from '@nestjs/serve-static';
import type { Request, Response } from 'express';
import { AppLogger } from '@libs/common';
import { OperatorConfig } from '@libs/config';
import { CONFIG, LOGGER } from '@libs/runtime';

/** Paths the console's client-side routing never shadows (the API and the probes stay Nest's). */
export const CONSOLE_EXCLUDE = ['/api/{*path}', '/health', '/ready', '/metrics'];

/** The nearest directory at or above `from` holding package.json: the install's root. */
function installRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/**
 * Where the console's bundle is: OPERATOR_CONSOLE_DIR, else `dist/console` of this install (found
 * from this file, compiled or not, so the working directory does not matter).
 */
export function consoleDir(config: Pick<OperatorConfig, 'OPERATOR_CONSOLE_DIR'>): string {
  return config.OPERATOR_CONSOLE_DIR
    ? resolve(config.OPERATOR_CONSOLE_DIR)
    : join(installRoot(__dirname), 'dist', 'console');
}

export const consoleBuilt = (dir: string) => existsSync(join(dir, 'index.html'));

/**
 * ServeStaticModule options: the bundle at `/`, index.html for client routes (`/orders/…`).
 * Nothing when the bundle is missing (ConsoleNotBuiltPage answers `/` then).
 */
export function consoleServeOptions(dir: string): ServeStaticModuleOptions[] {
  if (!consoleBuilt(dir)) return [];
  return [
    {
      rootPath: dir,
      exclude: CONSOLE_EXCLUDE,
      serveStaticOptions: {
        setHeaders: (res: Response, path: string) => {
          // Vite names assets by content hash: cache them for good; index.html must be re-read.
          res.setHeader(
            'Cache-Control',
            /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
          // One-click actions: the console is never framed by another page.
          res.setHeader('X-Frame-Options', 'DENY');
          res.setHeader('X-Content-Type-Options', 'nosniff');
        },
      },
    },
  ];
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Operator console not built</title></head>
<body>
<h1>The operator console is not built</h1>
<p>Build it with <code>npm run build</code> (it writes <code>dist/console</code>), or point
<code>OPERATOR_CONSOLE_DIR</code> at a built bundle, then restart the operator.</p>
<p>The API works meanwhile: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>
`;

/** Without a bundle the operator still boots, and `/` says how to build the console. */
@Injectable()
export class ConsoleNotBuiltPage implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CONFIG) private readonly config: OperatorConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    const dir = consoleDir(this.config);
    if (consoleBuilt(dir)) return;
    this.logger.warn({ dir }, 'console bundle not found (no index.html): / explains how to build it');
    this.adapterHost.httpAdapter.get('/', (_req: Request, res: Response) => {
      res.status(200).type('html').setHeader('Cache-Control', 'no-cache').send(NOT_BUILT_PAGE);
    });
  }
}
