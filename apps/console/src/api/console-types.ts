// The console's names for the operator API's shapes: every one is the generated type of
// docs/openapi.json (`npm run console:api`), so a change of the API breaks the console's build.
import type { components } from './openapi';

type Schemas = components['schemas'];
type NonNull<T> = Exclude<T, null | undefined>;

export type Session = Schemas['Session'];
export type Role = Session['role'];
export type FailureGroup = Schemas['FailureGroup'];
export type Overview = Schemas['Overview'];
export type OverviewScheme = Overview['schemes'][number];
export type SchemeRunStatus = OverviewScheme['status'];
export type AuditOrder = Schemas['AuditOrder'];
export type AuditOrderDetail = Schemas['ConsoleAuditOrderDetail'];
export type AuditOrderWithSnapshots = AuditOrderDetail['orders'][number];
export type HistoryItem = AuditOrderDetail['history']['items'][number];
export type OrderVersion = NonNull<AuditOrderWithSnapshots['versions']>[number];
export type LastReply = NonNull<AuditOrderWithSnapshots['lastReply']>;
export type ChangeDiff = NonNull<AuditOrderWithSnapshots['change']>;
export type OrdersPage = Schemas['ConsoleOrdersPage'];
export type SchemeListItem = Schemas['Schemes']['items'][number];
export type Action = Schemas['Action'];
export type RangeRequest = Schemas['RangeRequest'];
export type RangeRequestState = RangeRequest['state'];
export type SchemeFile = Schemas['SchemeFile'];
export type SchemeValidation = Schemas['SchemeValidation'];
export type SchemeIssue = SchemeValidation['issues'][number];
export type SchemeRevision = Schemas['SchemeRevisions']['items'][number];
export type Preview = Schemas['Preview'];
export type PreviewState = Preview['state'];
export type ReconcileRun = Schemas['ReconcileRun'];
export type ReconcileRunState = ReconcileRun['state'];
export type ReconcileCounts = NonNull<ReconcileRun['counts']>;
export type SchemeReconciliation = Schemas['SchemeReconciliation'];
export type ReconcileFinding = Schemas['ReconcileFinding'];
export type FindingKind = ReconcileFinding['kind'];
export type Connection = Schemas['Connection'];
export type ConnectionTest = Schemas['ConnectionTest'];
