import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { AlertMonitor } from './alert-monitor.service';
import { AlertNotifier } from './alert-notifier.service';
import { AlertChannel, AlertTimers } from './alert.types';
import { DingTalkAlertClient } from './dingtalk-alert.client';
import { WebhookAlertClient } from './webhook-alert.client';
import { WeComAlertClient } from './wecom-alert.client';

/** The ALERT_* variables (declared in libs/config for the loader and the audit writer). */
export interface AlertSettings {
  ALERT_WEBHOOK_URL?: string;
  ALERT_DINGTALK_URL?: string;
  ALERT_DINGTALK_SECRET?: string;
  ALERT_WECOM_URL?: string;
  ALERT_LAG_THRESHOLD_SECONDS: number;
  ALERT_MIN_INTERVAL_SECONDS: number;
}

export interface AlertRuntime {
  clock?: Clock;
  timers?: AlertTimers;
  logger?: AppLogger;
  /** Circuit alerts name this service (`circuit_open:<service>`). */
  service?: string;
}

/** The channels the configuration names, in a fixed order (webhook, DingTalk, WeCom). */
export function alertChannelsFromConfig(config: AlertSettings, clock: Clock = systemClock): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (config.ALERT_WEBHOOK_URL) channels.push(new WebhookAlertClient(config.ALERT_WEBHOOK_URL));
  if (config.ALERT_DINGTALK_URL)
    channels.push(new DingTalkAlertClient(config.ALERT_DINGTALK_URL, config.ALERT_DINGTALK_SECRET, clock));
  if (config.ALERT_WECOM_URL) channels.push(new WeComAlertClient(config.ALERT_WECOM_URL));
  return channels;
}

/** An AlertMonitor wired from config. With no channel configured, alerts are only logged (warn). */
export function createAlertMonitor(config: AlertSettings, runtime: AlertRuntime = {}): AlertMonitor {
  const clock = runtime.clock ?? systemClock;
  const logger = runtime.logger ?? silentLogger;
  const notifier = new AlertNotifier(alertChannelsFromConfig(config, clock), {
    minIntervalMs: config.ALERT_MIN_INTERVAL_SECONDS * 1000,
    clock,
    timers: runtime.timers,
    logger,
  });
  return new AlertMonitor(notifier, {
    lagThresholdMs: config.ALERT_LAG_THRESHOLD_SECONDS * 1000,
    service: runtime.service,
    clock,
    timers: runtime.timers,
    logger,
  });
}
