import { DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Clock, systemClock } from '@libs/common';
import { ActionsController } from './actions.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditController } from './audit.controller';
import { BaseDataController } from './base-data.controller';
import { BaseDataService } from './base-data.service';
import { ConsoleReadController } from './console-read.controller';
import { ConsoleReadService } from './console-read.service';
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
import { SchemeEditingController } from './scheme-editing.controller';
import { SchemeEditingService } from './scheme-editing.service';
import { SchemeFilesService } from './scheme-files.service';
import { SchemeStatusService } from './scheme-status.service';
import { SchemesController } from './schemes.controller';
import { ShanghaiTimeInterceptor } from './shanghai-time.interceptor';

export interface OperatorModuleOptions {
  clock?: Clock;
  /** Default: the scheme files of SCHEMES_DIR, checked for changes on every call (last good version kept). */
  schemes?: SchemeCatalog;
}

/**
 * Controllers in the order of the OpenAPI route table; the console's reads first, so that
 * `/api/audit/orders/export` is routed before `/api/audit/orders/:orderNo`.
 */
export const OPERATOR_CONTROLLERS = [
  ConsoleReadController,
  AuditController,
  ActionsController,
  DeadLettersController,
  SchemesController,
  SchemeEditingController,
  RepushController,
  BaseDataController,
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
        SchemeFilesService,
        {
          provide: SCHEME_CATALOG,
          inject: [SchemeFilesService],
          useFactory: (files: SchemeFilesService): SchemeCatalog =>
            options.schemes ?? {
              list: () => files.watcher.schemes(),
              refresh: async () => {
                await files.refresh();
              },
              problems: () => files.watcher.problems(),
            },
        },
        SchemeEditingService,
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
        ConsoleReadService,
      ],
    };
  }
}
