/** A column of a text table: its header and whether its cells are right-aligned (numbers). */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Renders rows as an aligned plain-text table with a header line and a rule under it. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.header)), rule, ...rows.map(line)].join('\n');
}

/** `label ........ value` lines with the values aligned. */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}

/** A section header. */
export function heading(title: string): string {
  return `\n=== ${title} ${'='.repeat(Math.max(3, 100 - title.length))}`;
}

/** A number with fixed decimals and thousands separators. */
export function num(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Milliseconds, e.g. `12.3 ms`. */
export function ms(value: number): string {
  return `${num(value, 1)} ms`;
}

/** Indents every line of a block by two spaces. */
export function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** Word-wraps `text` to `width` columns; continuation lines start with `hanging`. */
export function wrap(text: string, width: number, hanging = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const prefix = lines.length ? hanging : '';
    if (line && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push((lines.length ? hanging : '') + line);
  return lines.join('\n');
}

/** Like {@link keyValues}, with each value word-wrapped so that no line is wider than `width`. */
export function wrappedKeyValues(pairs: readonly (readonly [string, string])[], width: number): string {
  const labelWidth = Math.max(...pairs.map(([label]) => label.length));
  const valueIndent = ' '.repeat(labelWidth + 4);
  return pairs
    .map(([label, value]) => {
      const wrapped = wrap(value, width - labelWidth - 4).replaceAll('\n', `\n${valueIndent}`);
      return `  ${label.padEnd(labelWidth)}  ${wrapped}`;
    })
    .join('\n');
}
