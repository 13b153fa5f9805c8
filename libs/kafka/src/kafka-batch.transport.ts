import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom, Observable, throwError } from 'rxjs';
import { BatchConsumer, BatchContext, ConsumedMessage } from './batch-consumer';

/** How a service's Kafka handlers are reached: `@EventPattern(role)` on a controller method. */
export type BatchEventHandler = (messages: ConsumedMessage[], ctx: BatchContext) => unknown;

/**
 * The services' Kafka consumption as a Nest transport: each controller method decorated with
 * `@EventPattern(role)` (a topic role such as `rawStockout`) handles the batches of the consumer the
 * service registered for that role — the project's `BatchConsumer` (or `KeyOrderedConsumer`), so
 * batches, chunking, heartbeats, dead-lettering and manual commits stay as they are (Nest's own Kafka
 * transport consumes message by message and commits on its own schedule; see docs/decisions.md).
 *
 * A batch is done only when its handler is: the strategy awaits
 * `lastValueFrom(transformToObservable(await handler(...)))` — a Promise, a value or an Observable
 * that completes — so a handler that rejects (even after an `await`, or an Observable that errors
 * late) fails its batch, which is then retried, parked or left uncommitted by the consumer. Nest's
 * `handleEvent` is not used: it does not wait for an Observable to complete.
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  private readonly consumers = new Map<string, BatchConsumer>();
  private readonly started = new Set<string>();

  /** The consumer whose batches go to the handler of `@EventPattern(role)`; before `listen`. */
  consume(role: string, consumer: BatchConsumer): void {
    if (this.consumers.has(role)) throw new Error(`a consumer for "${role}" is registered already`);
    this.consumers.set(role, consumer);
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const handled = [...this.getHandlers().keys()];
      const unhandled = [...this.consumers.keys()].filter((role) => !handled.includes(role));
      if (unhandled.length > 0)
        throw new Error(`no @EventPattern handler for the consumer(s) of ${unhandled.join(', ')}`);
      for (const role of handled) {
        const consumer = this.consumers.get(role);
        if (!consumer)
          throw new Error(`@EventPattern('${role}') has no consumer: the service registers none for it`);
        await consumer.start((messages, ctx) => this.dispatch(role, messages, ctx));
        this.started.add(role);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops one role's consumer (a service does so first in its shutdown, before what the handler uses). */
  async stopConsuming(role: string, graceMs?: number): Promise<void> {
    if (!this.started.delete(role)) return;
    await this.consumers.get(role)?.stop(graceMs);
  }

  async close(): Promise<void> {
    for (const role of [...this.started]) await this.stopConsuming(role);
  }

  on(): never {
    throw new Error('KafkaBatchTransport has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }

  private async dispatch(role: string, messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    const handler = this.getHandlerByPattern(role);
    if (!handler) throw new Error(`no handler for "${role}"`);
    await lastValueFrom(this.transformToObservable(await handler(messages, ctx)), {
      defaultValue: undefined,
    });
  }
}

/**
 * Hands a handler's error back to the consumer as it was thrown: Nest's default RPC filter would
 * replace it with `{ status: 'error', message: 'Internal server error' }`, and the consumer needs the
 * error itself (is it the message's fault or the infrastructure's? what goes into the dead letter?).
 */
@Catch()
export class RethrowRpcErrors implements RpcExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
