import { Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ConnectionsService } from './connections.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { ConnectionTestView, ConnectionsView } from './connections.schema';
import { ConnectionParamsDto, ConnectionTestIdParamsDto } from './operator-api.dto';
import { ApiRoute } from './api-route.decorator';

@Controller('api/connections')
@UseGuards(OperatorAuthGuard)
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @ApiRoute({
    operationId: 'listConnections',
    tag: 'connections',
    summary: 'Every WDT and Kingdee connection (no secrets), the schemes using it, its status and last error',
    description:
      'Status merges what each extractor (WDT: its polls of the schemes on the connection) and loader (Kingdee: ' +
      'its login check and circuit) reports, and the connection tests they ran.',
    status: 200,
    response: ConnectionsView,
    responseDescription: 'The connections, WDT first, by name',
    role: 'viewer',
  })
  @Get()
  async list() {
    return this.connections.list();
  }

  @ApiRoute({
    operationId: 'getConnectionTest',
    tag: 'connections',
    summary: 'A connection test: state and result',
    status: 200,
    response: ConnectionTestView,
    responseDescription: 'The test',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('tests/:id')
  async getTest(@Param() params: ConnectionTestIdParamsDto) {
    const { id } = params;
    return this.connections.getTest(id);
  }

  /** 200 with the answer, or 202 with the queued test when no service answered within 20 s. */
  @ApiRoute({
    operationId: 'testConnection',
    tag: 'connections',
    summary: 'Test a connection (WDT: one query of an empty window; Kingdee: a login and a one-row query)',
    description:
      'The operator holds no secrets: it queues the test for an extractor (WDT) or loader (Kingdee) and waits ' +
      'up to 20 s for the answer (200, state done). Without an answer by then: 202 with the queued test; read it ' +
      'with GET /api/connections/tests/{id}. Recorded as an action.',
    status: 200,
    response: ConnectionTestView,
    responseDescription: 'The finished test (or 202: the test still queued or running)',
    errors: [400, 404],
    role: 'admin',
  })
  @Post(':kind/:name/test')
  @HttpCode(200)
  async test(
    @Param() params: ConnectionParamsDto,
    @Operator() by: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { kind, name } = params;
    const { done, test } = await this.connections.test(kind, name, by);
    if (!done) res.status(202);
    return test;
  }
}
