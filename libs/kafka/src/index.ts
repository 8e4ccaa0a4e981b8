import type { Logger } from '@crm/logger';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

export * from './envelope';
export * from './registry';
export * from './outbox';
export * from './relay';
export * from './consumer';
export * from './lag';
export * from './producer';
export { Kafka };

/** A kafkajs client whose own logs go through pino (warnings and errors only). */
export function createKafka(opts: { clientId: string; brokers: string[]; logger: Logger } & Partial<KafkaConfig>): Kafka {
  const { logger, ...config } = opts;
  return new Kafka({
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 8, initialRetryTime: 100 },
    ...config,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        const method = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
        logger[method]({ kafkajs: fields, kafkaMessage: message }, 'kafkajs log');
      },
  });
}

import { OutboxEventSchema, outboxMigration } from './outbox';
import { ProcessedEventSchema, processedEventsMigration } from './consumer';

/** Entities and migrations every service with an outbox or a consumer adds to its own. */
export const eventingEntities = [OutboxEventSchema, ProcessedEventSchema];
export const eventingMigrations = [outboxMigration, processedEventsMigration];
