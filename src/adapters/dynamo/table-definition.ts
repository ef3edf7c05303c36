/**
 * The single table's shape, used by BOTH the CDK stack and the local stack (tests, `npm start`), so the two can never
 * drift. All GSIs are declared up front: CloudFormation can add only one GSI per table update.
 */
export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  timeToLiveAttribute: 'ttl',
  /**
   * Every committed item's new image goes to the table's stream: the outbox re-drive reads committed events from it,
   * so a notification survives a process dying between the commit and the queue send.
   */
  stream: 'NEW_IMAGE',
  globalSecondaryIndexes: [
    /** Merchant + created time: listing a merchant's payments, refunds and events (one partition each). */
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK', projection: 'ALL' },
    /** Channel + settlement date: reconciliation reads one channel-day without a scan. */
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK', projection: 'ALL' },
    /** Sparse expiry bucket: only PENDING payments carry it, so the expiry timer reads exactly what it must close. */
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK', projection: 'KEYS_ONLY' },
  ],
} as const;
