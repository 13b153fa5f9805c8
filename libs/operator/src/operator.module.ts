import { DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Clock, systemClock } from '@libs/common';
import { CommonConfig } from '@libs/config';
import { CONFIG } from '@libs/runtime';
import { loadSchemesFromDir } from '@libs/scheme';
import { ActionsController } from './actions.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditController } from './audit.controller';
import { BaseDataController } from './base-data.controller';
import { BaseDataService } from './base-data.service';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { OpenApiController } from './openapi.controller';
import { OperatorActionsService } from './operator-actions.service';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OrderActionsService } from './order-actions.service';
import { OPERATOR_CLOCK, SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { RepushController } from './repush.controller';
import { RepushService } from './repush.service';
import { ResyncService } from './resync.service';
import { SchemeStatusService } from './scheme-status.service';
import { SchemesController } from './schemes.controller';
import { ShanghaiTimeInterceptor } from './shanghai-time.interceptor';
import { WorkRequestsController } from './work-requests.controller';
import { WorkRequestsService } from './work-requests.service';

export interface OperatorModuleOptions {
  clock?: Clock;
  /** Default: the scheme files of SCHEMES_DIR, read on every call (new files show without a restart). */
  schemes?: SchemeCatalog;
}

/** Controllers in the order of the OpenAPI route table. */
export const OPERATOR_CONTROLLERS = [
  AuditController,
  ActionsController,
  DeadLettersController,
  SchemesController,
  RepushController,
  BaseDataController,
  WorkRequestsController,
  OpenApiController,
];

/**
 * The operator API. Needs the runtime's InfrastructureModule (CONFIG with OPERATOR_TOKENS,
 * DATA_SOURCE, PRODUCER) imported alongside.
 */
@Module({})
export class OperatorModule {
  static register(options: OperatorModuleOptions = {}): DynamicModule {
    return {
      module: OperatorModule,
      controllers: OPERATOR_CONTROLLERS,
      providers: [
        { provide: OPERATOR_CLOCK, useValue: options.clock ?? systemClock },
        {
          provide: SCHEME_CATALOG,
          inject: [CONFIG],
          useFactory: (config: CommonConfig): SchemeCatalog =>
            options.schemes ?? { list: () => loadSchemesFromDir(config.SCHEMES_DIR) },
        },
        // Every time in a response as +08:00.
        { provide: APP_INTERCEPTOR, useClass: ShanghaiTimeInterceptor },
        OperatorAuthGuard,
        OperatorActionsService,
        AuditQueryService,
        DeadLettersService,
        SchemeStatusService,
        ResyncService,
        RepushService,
        OrderActionsService,
        BaseDataService,
        WorkRequestsService,
      ],
    };
  }
}
