import { createHmac } from 'node:crypto';
import { Clock, systemClock } from '@libs/common';
import { postJson, truncateText } from './alert-http.util';
import { AlertChannel, AlertMessage } from './alert.types';

/** 钉钉 加签: base64(HMAC-SHA256(key = secret, `${timestamp}\n${secret}`)). */
export function dingTalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with `&timestamp=..&sign=..` (url-encoded) appended when a secret is set. */
export function signedDingTalkUrl(url: string, secret: string | undefined, timestampMs: number): string {
  if (!secret) return url;
  const sign = encodeURIComponent(dingTalkSign(timestampMs, secret));
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestampMs}&sign=${sign}`;
}

/** 钉钉 custom robot, markdown message. */
export class DingTalkAlertClient implements AlertChannel {
  readonly name = 'dingtalk';

  constructor(
    private readonly url: string,
    private readonly secret?: string,
    private readonly clock: Clock = systemClock,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    const body = {
      msgtype: 'markdown',
      markdown: { title: message.title, text: truncateText(`### ${message.title}\n\n${message.text}`) },
    };
    await postJson(this.name, signedDingTalkUrl(this.url, this.secret, this.clock.now()), body, {
      timeoutMs: this.timeoutMs,
      checkErrcode: true,
    });
  }
}
