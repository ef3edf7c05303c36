import { randomBytes } from 'node:crypto';
import { signMerchantRequest } from '#domain/signing.ts';

export interface MerchantCredentials {
  apiBase: string;
  merchantId: string;
  merchantSecret: string;
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * A minimal merchant SDK: signs every request exactly as API.md says (HMAC over method, path+query, timestamp,
 * nonce and body hash). Used by the demo, the end-to-end tests and the benchmark.
 */
export class MerchantClient {
  constructor(private readonly credentials: MerchantCredentials) {}

  /** The merchant this client signs for. */
  get merchantId(): string {
    return this.credentials.merchantId;
  }

  async request<T = Record<string, unknown>>(
    method: string,
    pathAndQuery: string,
    body?: unknown,
    options: { headers?: Record<string, string>; rawBody?: string; timestamp?: number; nonce?: string } = {},
  ): Promise<ApiResponse<T>> {
    const raw = options.rawBody ?? (body === undefined ? '' : JSON.stringify(body));
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = options.nonce ?? randomBytes(16).toString('hex');
    const signature = signMerchantRequest(this.credentials.merchantSecret, {
      method,
      pathAndQuery,
      timestamp,
      nonce,
      body: raw,
    });
    const response = await fetch(`${this.credentials.apiBase}${pathAndQuery}`, {
      method,
      headers: {
        ...(raw ? { 'content-type': 'application/json' } : {}),
        'x-merchant-id': this.credentials.merchantId,
        'x-timestamp': timestamp,
        'x-nonce': nonce,
        'x-signature': signature,
        ...options.headers,
      },
      ...(raw ? { body: raw } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // an HTML page (sandbox cashier) stays text
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }
}
