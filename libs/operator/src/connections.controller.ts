import { Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ConnectionParams, ConnectionTestIdParams } from './connections.schema';
import { ConnectionsService } from './connections.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { parseInput } from './validation.util';

@Controller('api/connections')
@UseGuards(OperatorAuthGuard)
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @RequireRole('viewer')
  @Get()
  async list() {
    return this.connections.list();
  }

  @RequireRole('viewer')
  @Get('tests/:id')
  async getTest(@Param() params: unknown) {
    const { id } = parseInput(ConnectionTestIdParams, params);
    return this.connections.getTest(id);
  }

  /** 200 with the answer, or 202 with the queued test when no service answered within 20 s. */
  @RequireRole('admin')
  @Post(':kind/:name/test')
  @HttpCode(200)
  async test(@Param() params: unknown, @Operator() by: string, @Res({ passthrough: true }) res: Response) {
    const { kind, name } = parseInput(ConnectionParams, params);
    const { done, test } = await this.connections.test(kind, name, by);
    if (!done) res.status(202);
    return test;
  }
}
