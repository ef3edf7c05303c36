/**
 * The gateway's queues and workflows, declared once: the CDK stack creates them from these values and the local
 * runtime (`npm start`, the tests) creates the same queues and runs the same state machines, so the two cannot drift.
 * No AWS imports here: CDK and the local emulators each translate these plain values into their own API.
 */

/** One SQS queue's shape. */
export interface QueueDefinition {
  /** Physical queue name (also the local queue URL's last path segment). */
  readonly name: string;
  /**
   * How long a received message stays invisible before it is delivered again. Must exceed the consumer's timeout,
   * or a slow but successful delivery would be handed to a second consumer as well.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** How long an unconsumed message is kept; a dead-letter queue keeps its messages long enough for a human to look. */
  readonly retentionDays?: number;
}

/** Where messages that keep failing go, and after how many receives. */
export interface RedriveDefinition {
  /** The queue whose failing messages are moved. */
  readonly source: QueueDefinition;
  /** The dead-letter queue that receives them. */
  readonly deadLetterQueue: QueueDefinition;
  /**
   * Receives before a message is moved to the dead-letter queue: enough to ride out a short outage of the consumer
   * itself (the merchant's own retry schedule runs in Step Functions, not through SQS redelivery).
   */
  readonly maxReceiveCount: number;
}

/** The merchant-notification queue: the outbox feeds it and the `notify` function consumes it (first attempt). */
export const NOTIFY_QUEUE = {
  name: 'pay-gateway-notify',
  /**
   * AWS recommends at least six times the consuming function's timeout for a Lambda event source: `Notify` may wait
   * a merchant's full 10 s per delivery, so it gets 30 s, and the queue 180 s (the CDK stack checks the ratio).
   */
  visibilityTimeoutSeconds: 180,
} as const satisfies QueueDefinition;

/** Notifications the consumer could not even hand over to the retry workflow; kept for inspection and re-drive. */
export const NOTIFY_DLQ = {
  name: 'pay-gateway-notify-dlq',
  /** SQS's maximum retention: a dead letter must survive a long weekend before anyone looks at it. */
  retentionDays: 14,
} as const satisfies QueueDefinition;

/** Redrive of the notify queue into its dead-letter queue. */
export const NOTIFY_REDRIVE = {
  source: NOTIFY_QUEUE,
  deadLetterQueue: NOTIFY_DLQ,
  maxReceiveCount: 5,
} as const satisfies RedriveDefinition;

/**
 * The outbox relay's failure queue: a table stream batch whose retries ran out is recorded here (the event source
 * mapping's on-failure destination), and the scheduled `RelayRedrive` relays it again. Its visibility timeout covers
 * one re-drive run; the re-drive's backoff sends a record back with a delay.
 */
export const RELAY_FAILURES = {
  name: 'pay-gateway-relay-failures',
  visibilityTimeoutSeconds: 300,
  retentionDays: 14,
} as const satisfies QueueDefinition;

/**
 * Retries of a failing table stream batch by the outbox relay's event source mapping (halved each time on AWS) before
 * it is recorded in {@link RELAY_FAILURES} and skipped: bounded, so one poison record cannot hold up every later
 * record of its shard until the stream expires it.
 */
export const RELAY_RETRY_ATTEMPTS = 10;

/** Stream batches still undeliverable after the last re-drive: the only relay queue that alarms (a human replays). */
export const RELAY_UNDELIVERABLE = {
  name: 'pay-gateway-relay-undeliverable',
  retentionDays: 14,
} as const satisfies QueueDefinition;

/**
 * Backstop of the relay failure queue: the re-drive itself counts attempts and parks a batch it gives up on in the
 * final queue (`REDRIVE_MAX_ATTEMPTS`); a record received this often without being deleted or sent back — the
 * re-drive crashed on it every time — is moved there by SQS.
 */
export const RELAY_REDRIVE = {
  source: RELAY_FAILURES,
  deadLetterQueue: RELAY_UNDELIVERABLE,
  maxReceiveCount: 5,
} as const satisfies RedriveDefinition;

/** Retry schedule of a failed merchant notification (one execution per failed event, named by the event id). */
export const NOTIFY_RETRY_STATE_MACHINE = 'pay-gateway-notify-retry';
/** Expiry timer: one execution per expiry bucket (named by the bucket id) that closes the bucket's pending orders. */
export const ORDER_EXPIRY_STATE_MACHINE = 'pay-gateway-order-expiry';

/** A workflow: its name and its ASL file, relative to the project root. */
export interface StateMachineDefinitionFile {
  /** State machine name (locally also the last segment of its ARN). */
  readonly name: string;
  /** The Amazon States Language file both the CDK stack and the local runner load (one definition, never two). */
  readonly aslPath: string;
}

/** The gateway's workflows. */
export const STATE_MACHINES = {
  notifyRetry: { name: NOTIFY_RETRY_STATE_MACHINE, aslPath: 'statemachines/notify-retry.asl.json' },
  orderExpiry: { name: ORDER_EXPIRY_STATE_MACHINE, aslPath: 'statemachines/order-expiry.asl.json' },
} as const satisfies Record<string, StateMachineDefinitionFile>;
