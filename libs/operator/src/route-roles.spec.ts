import { buildOpenApiDocument } from './openapi.document';
import { servedRoutes } from './served-routes.util';

interface DocumentedOperation {
  route: string;
  operationId: string;
  role: string | undefined;
  public: boolean;
}

/** Every operation of the document @nestjs/swagger generates from the controllers. */
async function documented(): Promise<DocumentedOperation[]> {
  const doc = (await buildOpenApiDocument()) as {
    paths: Record<
      string,
      Record<string, { operationId: string; security?: unknown[]; 'x-required-role'?: string }>
    >;
  };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      route: `${method} ${path}`,
      operationId: op.operationId,
      role: op['x-required-role'],
      public: op.security?.length === 0,
    })),
  );
}

describe('roles of the operator routes', () => {
  const served = new Map(servedRoutes().map((s) => [s.key, s]));
  let operations: DocumentedOperation[];
  beforeAll(async () => {
    operations = await documented();
  });

  it('every handler is documented with an operationId, and every one but the public ones states a role', () => {
    expect(operations.map((o) => o.route).sort()).toEqual([...served.keys()].sort());
    expect(operations.filter((o) => !o.operationId)).toEqual([]);
    expect(operations.filter((o) => !o.public && !o.role).map((o) => o.route)).toEqual([]);
  });

  it("the documented role is the handler's @RequireRole, and the guard runs on every non-public route", () => {
    const rows = operations.map((o) => ({
      route: o.route,
      role: o.public ? undefined : o.role,
      guarded: !o.public,
    }));
    const actual = operations.map((o) => {
      const handler = served.get(o.route);
      return { route: o.route, role: handler?.role, guarded: handler?.guarded };
    });
    expect(actual).toEqual(rows);
  });

  // POSTs that change nothing (a body too large or structured for a query string).
  const READ_ONLY_POSTS = ['validateScheme'];

  it('reads are viewer, actions at least operator', () => {
    for (const o of operations.filter((x) => !x.public && !x.route.includes(' /api/session')))
      expect([o.operationId, o.role]).toEqual([
        o.operationId,
        o.route.startsWith('get ') || READ_ONLY_POSTS.includes(o.operationId)
          ? 'viewer'
          : expect.stringMatching(/^(operator|admin)$/),
      ]);
  });
});
