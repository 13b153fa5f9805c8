import { Command, InvalidArgumentError, Option } from 'commander';
import { SASLOptions } from 'kafkajs';
import { topicNamesFromEnv } from '@libs/contracts';
import { TailKind } from './tail-format.util';

export interface TailOptions {
  kind: TailKind;
  topic: string;
  groupId: string;
  fromBeginning: boolean;
  showRecord: boolean;
  brokers: string[];
  ssl: boolean;
  sasl?: SASLOptions;
  clientId: string;
}

/** The pipeline's own consumer groups; joining one would take partitions away from a service. */
const RESERVED_GROUP_PREFIX = 'wdt-kingdee.';
const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

function groupId(value: string): string {
  const group = value.trim();
  if (group === '') throw new InvalidArgumentError('must not be empty.');
  if (group.startsWith(RESERVED_GROUP_PREFIX))
    throw new InvalidArgumentError(
      `"${RESERVED_GROUP_PREFIX}*" groups belong to the pipeline's services; use your team's own group.`,
    );
  return group;
}

function brokerList(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0 || !brokers.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)))
    throw new InvalidArgumentError('must be a comma-separated list of host:port.');
  return brokers;
}

function brokersFromEnv(value: string): string[] {
  try {
    return brokerList(value);
  } catch (err) {
    throw new Error(`KAFKA_BROKERS ${(err as Error).message.replace(/\.$/, '')}`);
  }
}

export interface ParseOutput {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

/**
 * Command line + environment → options. Connection settings come from the same variables as the
 * services (KAFKA_BROKERS, KAFKA_SSL, KAFKA_SASL_*), topic names from TOPIC_RAW_STOCKOUT / TOPIC_AUDIT.
 * Throws commander's errors after commander printed them (`--help`: code `commander.helpDisplayed`),
 * and plain `Error`s for bad environment variables.
 */
export function parseTailOptions(
  argv: string[],
  env: Record<string, string | undefined>,
  output: ParseOutput = {},
): TailOptions {
  const program = new Command('audit-tail')
    .description(
      'Follow the raw stockout or the audit topic of the WDT → Kingdee sync, one line per event, ' +
        'validated against @libs/contracts. Stop with Ctrl-C.',
    )
    .addOption(
      new Option('--topic <kind>', 'which stream: raw (WDT stockout events) or audit (outcomes)')
        .choices(['raw', 'audit'])
        .makeOptionMandatory(),
    )
    .requiredOption('--group <id>', "your team's own consumer group id", groupId)
    .option('--from-beginning', 'start at the oldest retained event when the group has no offsets', false)
    .option('--show-record', 'raw: append the WDT record, receiver_* fields masked', false)
    .option(
      '--brokers <list>',
      'host:port[,host:port] (default: KAFKA_BROKERS or 127.0.0.1:9092)',
      brokerList,
    )
    .exitOverride()
    .configureOutput({
      writeOut: output.writeOut ?? ((s) => process.stdout.write(s)),
      writeErr: output.writeErr ?? ((s) => process.stderr.write(s)),
    });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    topic: TailKind;
    group: string;
    fromBeginning: boolean;
    showRecord: boolean;
    brokers?: string[];
  }>();

  const names = topicNamesFromEnv(env);
  const mechanism = env.KAFKA_SASL_MECHANISM || undefined;
  let sasl: TailOptions['sasl'];
  if (mechanism) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism))
      throw new Error(`KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}`);
    if (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)
      throw new Error('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM');
    // A union per mechanism in kafkajs' types; the mechanism was checked above.
    sasl = {
      mechanism,
      username: env.KAFKA_SASL_USERNAME,
      password: env.KAFKA_SASL_PASSWORD,
    } as SASLOptions;
  }
  return {
    kind: o.topic,
    topic: o.topic === 'raw' ? names.rawStockout : names.audit,
    groupId: o.group,
    fromBeginning: o.fromBeginning,
    showRecord: o.showRecord,
    brokers: o.brokers ?? brokersFromEnv(env.KAFKA_BROKERS || '127.0.0.1:9092'),
    ssl: ['true', '1', 'yes'].includes(env.KAFKA_SSL ?? ''),
    sasl,
    clientId: `audit-tail.${o.group}`,
  };
}
