export type { WdtCallGate, WdtCallGateRequest } from '@libs/wdt-client';
export type {
  KingdeeSlotLeases,
  KingdeeSlotHold as SlotHold,
  KingdeeSlotHoldRequest,
} from '@libs/kingdee-client';
export * from './wdt-budget.util';
export * from './slot-plan.util';
export * from './short-transaction.util';
export * from './postgres-wdt-call-gate';
export * from './postgres-kingdee-slot-leases';
