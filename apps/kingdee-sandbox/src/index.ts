export * from './base-data.constants';
export * from './sandbox.options';
export * from './sandbox.server';
export * from './sandbox.store';
export * from './sandbox-admin.controller';
export * from './sandbox-accounts.errors';
export { SandboxAccount, SandboxAccounts } from './sandbox-accounts.service';
export * from './sandbox-stats.service';
export * from './sandbox-filter.parser';
export { PUR_MRB_FORM_ID, DEFAULT_REQUIRED_HEADER, DEFAULT_REQUIRED_ENTRY } from './pur-mrb.form';
export { INJECTED_FAULTS, type InjectedFault, type SandboxFaultsSnapshot } from './sandbox-fault-log.service';
export {
  EXCEPTION_AFTER_SAVE_MESSAGE,
  PARAMETER_COUNT_MISMATCH_MESSAGE,
  nginxErrorPage,
} from './sandbox-fault-replies.util';
