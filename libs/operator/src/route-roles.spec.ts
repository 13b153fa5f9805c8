import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { OPERATOR_ROUTES, toOpenApiPath } from './openapi.document';
import { OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { OPERATOR_CONTROLLERS } from './operator.module';

interface Served {
  key: string;
  role: string | undefined;
  guarded: boolean;
}

/** Every handler of the operator's controllers with its role (`@RequireRole`) and whether the guard runs. */
function servedRoutes(): Served[] {
  const reflector = new Reflector();
  const out: Served[] = [];
  for (const controller of OPERATOR_CONTROLLERS) {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller));
    const proto = controller.prototype as unknown as Record<string, unknown>;
    const classGuards = (Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as unknown[];
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) continue;
      const method =
        RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod].toLowerCase();
      const full = `/${[prefix, path].filter((p) => p && p !== '/').join('/')}`;
      const guards = [
        ...classGuards,
        ...((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]),
      ];
      out.push({
        key: `${method} ${toOpenApiPath(full)}`,
        role: reflector.getAllAndOverride(RequireRole, [handler, controller]),
        guarded: guards.includes(OperatorAuthGuard),
      });
    }
  }
  return out;
}

describe('roles of the operator routes', () => {
  const served = new Map(servedRoutes().map((s) => [s.key, s]));

  it('every documented route but the public ones states a role', () => {
    const missing = OPERATOR_ROUTES.filter((r) => !r.public && !r.role).map((r) => r.operationId);
    expect(missing).toEqual([]);
  });

  it("the route table's role is the handler's @RequireRole, and the guard runs on every non-public route", () => {
    const rows = OPERATOR_ROUTES.map((r) => ({
      route: `${r.method} ${r.path}`,
      role: r.public ? undefined : r.role,
      guarded: !r.public,
    }));
    const actual = OPERATOR_ROUTES.map((r) => {
      const handler = served.get(`${r.method} ${toOpenApiPath(r.path)}`);
      return { route: `${r.method} ${r.path}`, role: handler?.role, guarded: handler?.guarded };
    });
    expect(actual).toEqual(rows);
  });

  // POSTs that change nothing (a body too large or structured for a query string).
  const READ_ONLY_POSTS = ['validateScheme'];

  it('reads are viewer, actions at least operator', () => {
    for (const r of OPERATOR_ROUTES.filter((x) => !x.public && !x.path.startsWith('/api/session')))
      expect([r.operationId, r.role]).toEqual([
        r.operationId,
        r.method === 'get' || READ_ONLY_POSTS.includes(r.operationId)
          ? 'viewer'
          : expect.stringMatching(/^(operator|admin)$/),
      ]);
  });
});
