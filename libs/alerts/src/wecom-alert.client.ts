import { postJson, truncateText } from './alert-http.util';
import { AlertChannel, AlertMessage } from './alert.types';

/** 企业微信 group robot, markdown message. */
export class WeComAlertClient implements AlertChannel {
  readonly name = 'wecom';

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    const body = {
      msgtype: 'markdown',
      markdown: { content: truncateText(`### ${message.title}\n${message.text}`) },
    };
    await postJson(this.name, this.url, body, { timeoutMs: this.timeoutMs, checkErrcode: true });
  }
}
