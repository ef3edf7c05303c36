/**
 * Alipay signs a synchronous response over the exact bytes of its `<method>_response` member, as Alipay serialized
 * them (`\/` escapes, raw UTF-8, key order, spacing). Re-serializing the parsed value would change that text, so the
 * member is cut out of the raw body by a small scanner instead.
 */

function skipWhitespace(text: string, from: number): number {
  let index = from;
  while (index < text.length && ' \t\n\r'.includes(text.charAt(index))) index++;
  return index;
}

/** Index just past the string literal that starts at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    const char = text.charAt(index);
    if (char === '\\') index++;
    else if (char === '"') return index + 1;
  }
  return text.length;
}

/** Index just past the JSON value that starts at `start`. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  for (let index = start; index < text.length; index++) {
    const char = text.charAt(index);
    if (char === '"') {
      index = endOfString(text, index) - 1;
      if (depth === 0) return index + 1;
    } else if (char === '{' || char === '[') {
      depth++;
    } else if (char === '}' || char === ']') {
      if (depth === 0) return index;
      depth--;
      if (depth === 0) return index + 1;
    } else if (char === ',' && depth === 0) {
      return index;
    }
  }
  return text.length;
}

/**
 * The raw text of the top-level member `key` of the JSON object `text`, exactly as it appears (first occurrence),
 * or `undefined` when there is none. Call it on a body that `JSON.parse` accepted.
 */
export function rawMember(text: string, key: string): string | undefined {
  let index = skipWhitespace(text, 0);
  if (text.charAt(index) !== '{') return undefined;
  index = skipWhitespace(text, index + 1);
  while (text.charAt(index) === '"') {
    const keyEnd = endOfString(text, index);
    const name: unknown = JSON.parse(text.slice(index, keyEnd));
    index = skipWhitespace(text, keyEnd);
    if (text.charAt(index) !== ':') return undefined;
    const valueStart = skipWhitespace(text, index + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (name === key) return text.slice(valueStart, valueEnd).trimEnd();
    index = skipWhitespace(text, valueEnd);
    if (text.charAt(index) === ',') index = skipWhitespace(text, index + 1);
  }
  return undefined;
}

/** The response member name of an API method: `alipay.trade.query` → `alipay_trade_query_response`. */
export function responseKey(method: string): string {
  return `${method.replaceAll('.', '_')}_response`;
}

/**
 * Serializes a value the way Alipay's gateway does (`/` escaped as `\/`, non-ASCII left raw), so a local server's
 * responses exercise the raw-text verification: a client that re-serialized would fail to verify them.
 */
export function alipayJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('/', '\\/');
}
