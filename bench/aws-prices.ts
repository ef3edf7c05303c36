/**
 * AWS list prices in us-east-1 as of 2025 (the pricing pages of each service), for the cost arithmetic of the
 * notification section. Free tiers are ignored.
 */
export const PRICES = {
  label: 'us-east-1 list prices as of 2025, free tiers ignored',
  /** Step Functions Standard: $0.025 per 1,000 state transitions (aws.amazon.com/step-functions/pricing). */
  sfnPerTransition: 0.025 / 1000,
  /** SQS standard queue: $0.40 per million requests, each up to 64 KiB (aws.amazon.com/sqs/pricing). */
  sqsPerRequest: 0.4 / 1_000_000,
  /** Lambda: $0.20 per million requests (aws.amazon.com/lambda/pricing). */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Lambda on arm64: $0.0000133334 per GB-second (first pricing tier). */
  lambdaArmPerGbSecond: 0.0000133334,
} as const;

/** Every gateway function's memory (lib/gateway-function.ts: arm64, 512 MB). */
export const LAMBDA_MEMORY_GB = 512 / 1024;

/**
 * An idle SQS event source mapping keeps long-polling: Lambda polls a quiet standard queue with five concurrent
 * batches, and only scales down to two when no maximum concurrency is set (docs.aws.amazon.com/lambda/latest/dg/
 * services-sqs-scaling.html) — the notify mapping sets one (lib/gateway-workers.ts). Assumed: each poller's
 * ReceiveMessage waits the 20 s long-poll maximum, so 5 × 86,400 / 20 empty receives a day at most.
 */
export const SQS_IDLE_POLLERS = 5;
export const SQS_LONG_POLL_SECONDS = 20;
export const SQS_IDLE_RECEIVES_PER_DAY = (SQS_IDLE_POLLERS * 86_400) / SQS_LONG_POLL_SECONDS;
