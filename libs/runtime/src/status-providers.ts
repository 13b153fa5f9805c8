import { Provider } from '@nestjs/common';
import { Logger } from 'pino';
import { AlertMonitor, AlertSettings, createAlertMonitor } from '@libs/alerts';
import { ServiceName } from '@libs/config';
import { ConnectionStatusRecorder } from '@libs/connection-health';
import { ServiceStatusStore } from '@libs/database';
import { CONFIG, LOGGER } from './tokens';

/** Per connection: its health as this service sees it (service_status `connection:<kind>:<name>`). */
export const connectionStatusProvider: Provider = {
  provide: ConnectionStatusRecorder,
  inject: [ServiceStatusStore, LOGGER],
  useFactory: (rows: ServiceStatusStore, logger: Logger) => new ConnectionStatusRecorder(rows, { logger }),
};

/** The service's alert monitor (circuit, stopped schemes, base data), named after the service. */
export function alertMonitorProvider(service: ServiceName): Provider {
  return {
    provide: AlertMonitor,
    inject: [CONFIG, LOGGER],
    useFactory: (config: AlertSettings, logger: Logger) => createAlertMonitor(config, { logger, service }),
  };
}
