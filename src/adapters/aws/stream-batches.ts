import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StreamBatchReader, StreamChange } from '#app/ports.ts';
import { type FailedStreamBatch, inBatch, pastBatch } from '#domain/relay-redrive.ts';

/** `GetRecords` calls one batch may take: a batch is at most a few hundred records, far less than this many pages. */
const MAX_PAGES = 50;

/**
 * Reads a skipped batch back from the table's stream (DynamoDB Streams keeps records for 24 hours; the re-drive
 * gives up well before). A batch that can no longer be read (trimmed) fails, so it ends in the final queue.
 */
export class DynamoStreamBatches implements StreamBatchReader {
  constructor(private readonly streams = new DynamoDBStreamsClient({})) {}

  async changes(batch: FailedStreamBatch): Promise<StreamChange[]> {
    const start = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: batch.startSequenceNumber,
      }),
    );
    const items: StreamChange[] = [];
    let iterator = start.ShardIterator;
    for (let page = 0; iterator && page < MAX_PAGES; page++) {
      const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const record of out.Records ?? []) {
        const sequenceNumber = record.dynamodb?.SequenceNumber;
        if (!sequenceNumber) continue;
        if (pastBatch(batch, sequenceNumber)) return items;
        const kind = record.eventName;
        if (inBatch(batch, sequenceNumber) && (kind === 'INSERT' || kind === 'MODIFY') && record.dynamodb?.NewImage) {
          items.push({ kind, item: unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) });
        }
        if (sequenceNumber === batch.endSequenceNumber) return items;
      }
      // A closed shard read to its end has no next iterator: everything of the batch has been seen.
      iterator = out.NextShardIterator;
    }
    if (!iterator) return items;
    throw new Error(`stream batch ${batch.shardId} ${batch.startSequenceNumber}… not read to its end`);
  }
}
