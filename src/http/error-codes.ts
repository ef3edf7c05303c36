/**
 * Every error code a client can receive, with its HTTP status and meaning — what the OpenAPI document lists under each
 * status. A test finds every code thrown in the source and fails when one is missing here.
 */
export const ERROR_CODES: Readonly<Record<string, { statuses: readonly number[]; description: string }>> = {
  VALIDATION_FAILED: {
    statuses: [400],
    description: 'The request breaks a validation rule; `details.issues` says where.',
  },
  INVALID_JSON: { statuses: [400], description: 'The body is not UTF-8 JSON.' },
  AMOUNT_INVALID: {
    statuses: [400],
    description: 'Not a positive decimal string for the currency, or outside the limits.',
  },
  CURRENCY_UNSUPPORTED: { statuses: [400], description: 'A well-formed currency the gateway does not take.' },
  CHANNEL_NOT_SUPPORTED: {
    statuses: [400],
    description: 'The channel is not enabled here or cannot take this payment.',
  },
  IDEMPOTENCY_KEY_INVALID: { statuses: [400], description: '`Idempotency-Key` is not 1–255 printable characters.' },
  NOTIFY_URL_INVALID: { statuses: [400], description: 'The `notify_url` is not a public https URL.' },
  AMOUNT_MISMATCH: { statuses: [400], description: 'A callback reports another amount or currency than the payment.' },
  CALLBACK_INVALID: { statuses: [400], description: 'A channel callback that cannot be parsed.' },
  CALLBACK_APP_MISMATCH: { statuses: [400], description: 'A channel callback for another channel account.' },
  CALLBACK_EVENT_UNSUPPORTED: {
    statuses: [400],
    description: 'A channel callback of a kind the gateway does not handle.',
  },
  AUTH_MISSING: { statuses: [401], description: 'An authentication header is missing or malformed.' },
  AUTH_UNKNOWN_MERCHANT: { statuses: [401], description: 'No such merchant.' },
  AUTH_INVALID_SIGNATURE: { statuses: [401], description: 'The signature does not verify.' },
  AUTH_TIMESTAMP_SKEW: { statuses: [401], description: '`X-Timestamp` is more than 300 s from server time.' },
  AUTH_NONCE_REPLAYED: { statuses: [401], description: 'The nonce was used in the last 10 minutes.' },
  CALLBACK_SIGNATURE_INVALID: { statuses: [401], description: 'A callback whose channel signature does not verify.' },
  INSUFFICIENT_BALANCE: {
    statuses: [402, 409],
    description: '402: a BALANCE payment the wallet cannot pay; 409: a refund the wallet no longer holds.',
  },
  MERCHANT_DISABLED: { statuses: [403], description: 'The merchant is disabled.' },
  RISK_REJECTED: {
    statuses: [403],
    description:
      'Risk control declined the payment and nothing was created; `details.rules` names the rules that fired.',
  },
  CALLBACK_SOURCE_FORBIDDEN: {
    statuses: [403],
    description: 'A callback from outside the channel’s source allowlist.',
  },
  NOT_FOUND: {
    statuses: [404],
    description: 'No such route or resource (another merchant’s resource is not found too).',
  },
  METHOD_NOT_ALLOWED: { statuses: [405], description: 'The path exists for other methods (`details.allowed`).' },
  IDEMPOTENCY_CONFLICT: { statuses: [409], description: 'A repeat with different parameters.' },
  REQUEST_IN_PROGRESS: { statuses: [409], description: 'A concurrent duplicate is still being processed; retry.' },
  INVALID_STATE: { statuses: [409], description: 'The resource is not in a state that allows this.' },
  REFUND_EXCEEDS_PAYMENT: { statuses: [409], description: 'The refunds would exceed the paid amount.' },
  REFUND_DESTINATION_NOT_ALLOWED: {
    statuses: [409],
    description: 'A BALANCE refund of a payment that credited a wallet.',
  },
  MERCHANT_EXISTS: { statuses: [409], description: 'Operator CLI: the merchant id is taken.' },
  BODY_TOO_LARGE: { statuses: [413], description: 'The body is over 64 KiB.' },
  UNSUPPORTED_MEDIA_TYPE: { statuses: [415], description: 'A body not sent as `application/json` (UTF-8).' },
  RATE_LIMITED: { statuses: [429], description: 'Too many requests; retry after `Retry-After` seconds.' },
  INTERNAL_ERROR: { statuses: [500], description: 'Unexpected; retry later.' },
  CHANNEL_REJECTED: { statuses: [502], description: 'The payment channel refused (`details.channel_code`).' },
  CHANNEL_RESPONSE_INVALID: {
    statuses: [502],
    description: 'The payment channel answered something that did not verify.',
  },
  CHANNEL_UNAVAILABLE: { statuses: [503], description: 'The payment channel is unavailable; retryable.' },
  NO_CHANNEL_AVAILABLE: { statuses: [503], description: 'No channel can take the payment now; retryable.' },
};

/** The codes answered with `status`. */
export function codesOf(status: number): string[] {
  return Object.entries(ERROR_CODES)
    .filter(([, entry]) => entry.statuses.includes(status))
    .map(([code]) => code);
}
