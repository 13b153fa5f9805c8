import { OperatorRole } from '@libs/config';
import { Scheme, SchemeFileProblem } from '@libs/scheme';

/** Injection tokens of the operator module (the rest comes from @libs/runtime). */
export const OPERATOR_CLOCK = Symbol('OPERATOR_CLOCK');
export const SCHEME_CATALOG = Symbol('SCHEME_CATALOG');
export const OPERATOR_SESSION_STORE = Symbol('OPERATOR_SESSION_STORE');

/** Where the scheme definitions come from (the SCHEMES_DIR files, read on every call). */
export interface SchemeCatalog {
  list(): Scheme[];
  /** Reads the files again if they changed (the watcher's check). */
  refresh?(): Promise<void>;
  /** Files whose current content is not in use, and why. */
  problems?(): SchemeFileProblem[];
}

/** What an authenticated request carries: the name and role of the token it presented (or signed in with). */
export interface OperatorIdentity {
  name: string;
  role: OperatorRole;
}
