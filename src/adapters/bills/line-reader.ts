/** A text encoding a bill comes in: Alipay writes GBK, WeChat Pay and the sandbox UTF-8. */
export type BillEncoding = 'utf-8' | 'gbk';

/** One physical line, without its `\n`/`\r\n`. `tooLong`: longer than the limit, `text` holds only its start. */
export interface TextLine {
  lineNumber: number;
  text: string;
  tooLong?: true;
}

/** Lines longer than this are reported instead of buffered (a bill line is a few hundred characters). */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Splits a byte stream into decoded lines without ever holding more than one line: the decoder keeps a multi-byte
 * character split across chunks (`stream: true`), `carry` keeps a line split across chunks, a UTF-8 BOM is dropped
 * (the `TextDecoder` default) and `\r\n` ends a line like `\n`. The `gbk` label decodes as GB18030, its superset.
 */
export async function* readLines(
  source: AsyncIterable<Uint8Array>,
  encoding: BillEncoding,
  maxLength = MAX_LINE_LENGTH,
): AsyncGenerator<TextLine> {
  const decoder = new TextDecoder(encoding);
  let carry = '';
  let tooLong = false;
  let lineNumber = 0;

  function* take(text: string): Generator<TextLine> {
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const piece = tooLong ? carry : carry + text.slice(start, end);
      start = end + 1;
      yield finish(piece);
    }
    if (!tooLong) carry += text.slice(start);
    if (carry.length > maxLength) {
      tooLong = true;
      carry = carry.slice(0, 200);
    }
  }

  function finish(piece: string): TextLine {
    lineNumber += 1;
    const line: TextLine = { lineNumber, text: piece.endsWith('\r') ? piece.slice(0, -1) : piece };
    if (tooLong || piece.length > maxLength) {
      line.tooLong = true;
      line.text = piece.slice(0, 200);
    }
    carry = '';
    tooLong = false;
    return line;
  }

  for await (const chunk of source) yield* take(decoder.decode(chunk, { stream: true }));
  yield* take(decoder.decode());
  if (carry !== '' || tooLong) yield finish(carry);
}
