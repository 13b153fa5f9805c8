/** What a gateway handler decided for one call. */
export type GatewayResult =
  | { outcome: 'ok'; body: Record<string, unknown>; returned: number }
  | { outcome: 'rejected'; reason: string; body: Record<string, unknown> };
