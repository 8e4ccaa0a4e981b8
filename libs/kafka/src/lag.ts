import { meter } from '@crm/telemetry';
import type { Batch } from 'kafkajs';

/**
 * A consumer group's lag per partition, as kafkajs learns it with every fetched batch (the partition's
 * high watermark minus the batch's last offset), exported as the gauge `consumer.lag` with the group,
 * topic and partition as attributes. It is the lag as of the last batch: a consumer that stopped
 * fetching keeps its last figure, so alert on it together with `consumer.processed` not increasing.
 */
export class ConsumerLag {
  private readonly lag = new Map<string, { topic: string; partition: number; messages: number }>();

  constructor(groupId: string) {
    meter('crm.consumer')
      .createObservableGauge('consumer.lag', { unit: '{message}', description: 'messages behind the partition end, as of the last fetched batch' })
      .addCallback((result) => {
        for (const p of this.lag.values()) {
          result.observe(p.messages, { 'messaging.consumer.group.name': groupId, 'messaging.destination.name': p.topic, 'messaging.destination.partition.id': String(p.partition) });
        }
      });
  }

  record(batch: Pick<Batch, 'topic' | 'partition' | 'offsetLag'>): void {
    this.lag.set(`${batch.topic}:${batch.partition}`, { topic: batch.topic, partition: batch.partition, messages: Math.max(0, Number(batch.offsetLag())) });
  }
}
