import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { toOpenApiPath } from './openapi-schemas';
import { OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { OPERATOR_CONTROLLERS } from './operator.module';

export interface ServedRoute {
  key: string;
  role: string | undefined;
  guarded: boolean;
}

/** Every handler of the operator's controllers with its role (`@RequireRole`) and whether the guard runs. */
export function servedRoutes(): ServedRoute[] {
  const reflector = new Reflector();
  const out: ServedRoute[] = [];
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
