import { KingdeeError, type KingdeeErrorKind } from './kingdee.errors';
import {
  type KingdeeAuthMode,
  type KingdeeClientOptions,
  type KingdeeDialect,
  type KingdeeLoginBody,
  KINGDEE_DEFAULTS,
} from './kingdee.options';
import { deriveClientSecret, splitAppId } from './kingdee-sign.util';

/** A client's validated settings, none of them secret (password and app secret stay in the client). */
export interface ResolvedKingdeeConfig {
  serverUrl: string;
  acctId: string;
  username: string;
  appId: string;
  lcid: number;
  orgNumber: string;
  authMode: KingdeeAuthMode;
  timeoutMs: number;
  dialect: KingdeeDialect;
  loginBody: KingdeeLoginBody;
  signAlgorithm: 'sha256' | 'sha1';
  sendSessionHeader: boolean;
  msgCodeKinds: Partial<Record<number, KingdeeErrorKind>> | undefined;
}

const AUTH_MODES: readonly KingdeeAuthMode[] = ['validate_user', 'app_secret', 'sign', 'api_signature'];
const DIALECTS: readonly KingdeeDialect[] = ['named', 'positional', 'legacy'];
const LOGIN_BODIES: readonly KingdeeLoginBody[] = ['positional', 'named'];

/** Longest server text quoted in an unrecognised-login error. */
const MAX_QUOTED_SERVER_TEXT = 300;

export function clip(text: string): string {
  return text.length > MAX_QUOTED_SERVER_TEXT ? `${text.slice(0, MAX_QUOTED_SERVER_TEXT)}…` : text;
}

function configError(message: string): KingdeeError {
  return new KingdeeError({
    kind: 'permanent',
    code: 'KD_CONFIG',
    message: `kingdee client config: ${message}`,
  });
}

export function shortService(service: string): string {
  const parts = service.split('.');
  return parts.slice(-2).join('.');
}

/** Validates options and keeps only the non-secret ones in plain sight (a bad one: `KD_CONFIG`). */
export function resolveKingdeeConfig(options: KingdeeClientOptions): ResolvedKingdeeConfig {
  if (!options || typeof options !== 'object') throw configError('options missing');
  let url: URL;
  try {
    url = new URL(options.serverUrl);
  } catch {
    throw configError('serverUrl is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError('serverUrl must be http(s)');
  if (!AUTH_MODES.includes(options.authMode))
    throw configError(`authMode must be one of ${AUTH_MODES.join(', ')}`);
  const dialect = options.dialect ?? KINGDEE_DEFAULTS.dialect;
  if (!DIALECTS.includes(dialect)) throw configError(`dialect must be one of ${DIALECTS.join(', ')}`);
  const loginBody = options.loginBody ?? KINGDEE_DEFAULTS.loginBody;
  if (!LOGIN_BODIES.includes(loginBody)) {
    throw configError(`loginBody must be one of ${LOGIN_BODIES.join(', ')}`);
  }
  if (!options.acctId) throw configError('acctId is required');
  if (!options.username) throw configError('username is required');
  if (options.authMode === 'validate_user' && !options.password) {
    throw configError('password is required for validate_user');
  }
  if (options.authMode !== 'validate_user') {
    if (!options.appId) throw configError(`appId is required for ${options.authMode}`);
    if (!options.appSecret) throw configError(`appSecret is required for ${options.authMode}`);
  }
  if (options.authMode === 'api_signature') {
    const split = splitAppId(options.appId ?? '');
    if (!split || deriveClientSecret(split.secPart) === '') {
      throw configError('appId must be clientId_secPart with a 32-character secPart for api_signature');
    }
  }
  const timeoutMs = options.timeoutMs ?? KINGDEE_DEFAULTS.timeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw configError('timeoutMs must be > 0');
  const base = options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`;
  return {
    serverUrl: base,
    acctId: options.acctId,
    username: options.username,
    appId: options.appId ?? '',
    lcid: options.lcid ?? KINGDEE_DEFAULTS.lcid,
    orgNumber: options.orgNumber ?? KINGDEE_DEFAULTS.orgNumber,
    authMode: options.authMode,
    timeoutMs,
    dialect,
    loginBody,
    signAlgorithm: options.signAlgorithm ?? KINGDEE_DEFAULTS.signAlgorithm,
    sendSessionHeader: options.sendSessionHeader ?? true,
    msgCodeKinds: options.msgCodeKinds,
  };
}
