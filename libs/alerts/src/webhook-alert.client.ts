import { postJson } from './alert-http.util';
import { AlertChannel, AlertMessage } from './alert.types';

/** Generic webhook: the message as JSON (`{key, severity, title, text, occurredAt, folded?}`). */
export class WebhookAlertClient implements AlertChannel {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    await postJson(this.name, this.url, message, { timeoutMs: this.timeoutMs, checkErrcode: false });
  }
}
