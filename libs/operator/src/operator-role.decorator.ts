import { Reflector } from '@nestjs/core';
import { OperatorRole } from '@libs/config';

/**
 * The least role a handler needs (viewer < operator < admin), read by OperatorAuthGuard. A guarded
 * handler without it needs admin: a forgotten declaration fails closed. The route table
 * (`RouteSpec.role`) documents the same role; a test keeps the two equal.
 */
export const RequireRole = Reflector.createDecorator<OperatorRole>();
