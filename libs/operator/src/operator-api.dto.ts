import { createZodDto } from 'nestjs-zod';
import {
  ActionsQuery,
  AuditOrderQuery,
  AuditStatsQuery,
  CloseDeadLetterBody,
  CloseOrderBody,
  DeadLettersQuery,
  IdParams,
  LinkBillBody,
  OrderNoParams,
  PageQuery,
  PauseBody,
  RepushBody,
  ResyncBody,
  ResyncListQuery,
  RevealQuery,
  SchemeIdParams,
} from './operator-api.schema';
import {
  BackfillBody,
  PreviewBody,
  RangeRequestsQuery,
  ReplayBody,
  WorkRequestIdParams,
} from './work-requests.schema';
import { ConnectionParams, ConnectionTestIdParams } from './connections.schema';
import {
  ConsoleOrdersQuery,
  FailureGroupsQuery,
  OrdersExportQuery,
  OverviewQuery,
} from './console-read.schema';
import {
  CreateSchemeBody,
  RollbackSchemeBody,
  SaveSchemeBody,
  SchemeRevisionParams,
  ValidateSchemeBody,
} from './scheme-editing.schema';
import {
  ExportQuery,
  FindingsQuery,
  ReconcileRequestBody,
  ReconcileRunIdParams,
  ReconcileRunsQuery,
  RepushFindingsBody,
} from './reconciliations.schema';
import { SessionBody } from './session.schema';

// Request inputs as nestjs-zod DTOs: the global validation pipe parses each with its schema, and
// the route decorator documents the same schema.
export class ActionsQueryDto extends createZodDto(ActionsQuery) {}
export class AuditOrderQueryDto extends createZodDto(AuditOrderQuery) {}
export class AuditStatsQueryDto extends createZodDto(AuditStatsQuery) {}
export class BackfillBodyDto extends createZodDto(BackfillBody) {}
export class CloseDeadLetterBodyDto extends createZodDto(CloseDeadLetterBody) {}
export class CloseOrderBodyDto extends createZodDto(CloseOrderBody) {}
export class ConnectionParamsDto extends createZodDto(ConnectionParams) {}
export class ConnectionTestIdParamsDto extends createZodDto(ConnectionTestIdParams) {}
export class ConsoleOrdersQueryDto extends createZodDto(ConsoleOrdersQuery) {}
export class CreateSchemeBodyDto extends createZodDto(CreateSchemeBody) {}
export class DeadLettersQueryDto extends createZodDto(DeadLettersQuery) {}
export class ExportQueryDto extends createZodDto(ExportQuery) {}
export class FailureGroupsQueryDto extends createZodDto(FailureGroupsQuery) {}
export class FindingsQueryDto extends createZodDto(FindingsQuery) {}
export class IdParamsDto extends createZodDto(IdParams) {}
export class LinkBillBodyDto extends createZodDto(LinkBillBody) {}
export class OrderNoParamsDto extends createZodDto(OrderNoParams) {}
export class OrdersExportQueryDto extends createZodDto(OrdersExportQuery) {}
export class OverviewQueryDto extends createZodDto(OverviewQuery) {}
export class PageQueryDto extends createZodDto(PageQuery) {}
export class PauseBodyDto extends createZodDto(PauseBody) {}
export class PreviewBodyDto extends createZodDto(PreviewBody) {}
export class RangeRequestsQueryDto extends createZodDto(RangeRequestsQuery) {}
export class ReconcileRequestBodyDto extends createZodDto(ReconcileRequestBody) {}
export class ReconcileRunIdParamsDto extends createZodDto(ReconcileRunIdParams) {}
export class ReconcileRunsQueryDto extends createZodDto(ReconcileRunsQuery) {}
export class ReplayBodyDto extends createZodDto(ReplayBody) {}
export class RepushBodyDto extends createZodDto(RepushBody) {}
export class RepushFindingsBodyDto extends createZodDto(RepushFindingsBody) {}
export class ResyncBodyDto extends createZodDto(ResyncBody) {}
export class ResyncListQueryDto extends createZodDto(ResyncListQuery) {}
export class RevealQueryDto extends createZodDto(RevealQuery) {}
export class RollbackSchemeBodyDto extends createZodDto(RollbackSchemeBody) {}
export class SaveSchemeBodyDto extends createZodDto(SaveSchemeBody) {}
export class SchemeIdParamsDto extends createZodDto(SchemeIdParams) {}
export class SchemeRevisionParamsDto extends createZodDto(SchemeRevisionParams) {}
export class SessionBodyDto extends createZodDto(SessionBody) {}
export class ValidateSchemeBodyDto extends createZodDto(ValidateSchemeBody) {}
export class WorkRequestIdParamsDto extends createZodDto(WorkRequestIdParams) {}
