import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import cookieParser from 'cookie-parser';
import { DataSource } from 'typeorm';
import { APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AppLogger, Clock, systemClock } from '@libs/common';
import { OperatorConfig } from '@libs/config';
import { CONFIG, DATA_SOURCE, LOGGER } from '@libs/runtime';
import { ActionsController } from './actions.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditController } from './audit.controller';
import { BaseDataController } from './base-data.controller';
import { BaseDataService } from './base-data.service';
import { ConnectionsController } from './connections.controller';
import { ConnectionsService } from './connections.service';
import { ConsoleReadController } from './console-read.controller';
import { ConsoleReadService } from './console-read.service';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { OpenApiController } from './openapi.controller';
import { OperatorActionsService } from './operator-actions.service';
import { OperatorValidationPipe } from './operator-validation.pipe';
import { OperatorAuthGuard } from './operator-auth.guard';
import { PostgresOperatorSessionStore } from './operator-session.store';
import { OperatorSessionService } from './operator-session.service';
import { OperatorTokenVerifier, warnLegacyTokens } from './operator-token.verifier';
import { OrderActionsService } from './order-actions.service';
import { OPERATOR_CLOCK, OPERATOR_SESSION_STORE, SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { RepushController } from './repush.controller';
import { RepushService } from './repush.service';
import { ResyncService } from './resync.service';
import { SchemeEditingController } from './scheme-editing.controller';
import { SchemeEditingService } from './scheme-editing.service';
import { SchemeFilesService } from './scheme-files.service';
import { SchemeStatusService } from './scheme-status.service';
import { SchemesController } from './schemes.controller';
import { SessionController } from './session.controller';
import { ShanghaiTimeInterceptor } from './shanghai-time.interceptor';
import { WorkRequestsController } from './work-requests.controller';
import { ReconciliationsController } from './reconciliations.controller';
import { ReconciliationsService } from './reconciliations.service';
import { WorkRequestsService } from './work-requests.service';

export interface OperatorModuleOptions {
  clock?: Clock;
  /** Default: the scheme files of SCHEMES_DIR, checked for changes on every call (last good version kept). */
  schemes?: SchemeCatalog;
}

/**
 * The operator's controllers; the console's reads first, so that
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
  WorkRequestsController,
  ReconciliationsController,
  ConnectionsController,
  OpenApiController,
  SessionController,
];

/**
 * The operator API. Needs the runtime's InfrastructureModule (CONFIG with OPERATOR_TOKENS,
 * DATA_SOURCE, PRODUCER) imported alongside.
 */
@Module({})
export class OperatorModule implements NestModule {
  /** The session cookie is read by OperatorAuthGuard (unsigned: the id is random and only its hash is stored). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(cookieParser()).forRoutes(...OPERATOR_CONTROLLERS);
  }

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
        // Every @Param/@Query/@Body typed with a zod DTO is parsed with its schema (400 naming the field).
        { provide: APP_PIPE, useValue: new OperatorValidationPipe() },
        {
          provide: OperatorTokenVerifier,
          inject: [CONFIG, LOGGER],
          useFactory: (config: OperatorConfig, logger: AppLogger) => {
            warnLegacyTokens(config.OPERATOR_TOKENS, logger);
            return new OperatorTokenVerifier(config.OPERATOR_TOKENS);
          },
        },
        {
          provide: OPERATOR_SESSION_STORE,
          inject: [DATA_SOURCE],
          useFactory: (ds: DataSource) => new PostgresOperatorSessionStore(ds),
        },
        OperatorSessionService,
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
        WorkRequestsService,
        ReconciliationsService,
        ConnectionsService,
      ],
    };
  }
}
