/** Go's text/tabwriter, as the docker CLI configures it for tables. */

export interface TabwriteOptions {
  /** Minimal cell width including padding (docker: 10). */
  minwidth?: number;
  /** Spaces added to the widest cell of a column (docker: 3). */
  padding?: number;
}

/**
 * Go's text/tabwriter as the docker CLI configures it (minwidth 10, padding 3, padchar ' ',
 * no flags; tabwidth does not matter when padding with spaces). Each inner array is one line's
 * cells; every cell but the last is "tab-terminated" and takes part in column alignment, the
 * last is printed as it is. Columns are aligned over blocks of consecutive lines that have
 * that column, as Go does. Widths count characters (runes). Every line ends with "\n".
 */
export function tabwrite(lines: string[][], options: TabwriteOptions = {}): string {
  const minwidth = options.minwidth ?? 10;
  const padding = options.padding ?? 3;
  const widths: number[] = [];
  const out: string[] = new Array<string>(lines.length).fill('');
  const textWidth = (s: string): number => [...s].length;
  const cellsOf = (i: number): string[] => lines[i] ?? [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      out[i] = cellsOf(i)
        .map((cell, j) => (j < widths.length ? cell + ' '.repeat(Math.max(0, widths[j]! - textWidth(cell))) : cell))
        .join('');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let current = line0; current < line1; current++) {
      if (column >= cellsOf(current).length - 1) continue;
      // A cell exists in this column: print the lines above, then size the column block.
      writeLines(line0, current);
      line0 = current;
      let width = minwidth;
      for (; current < line1; current++) {
        const cells = cellsOf(current);
        if (column >= cells.length - 1) break;
        width = Math.max(width, textWidth(cells[column]!) + padding);
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.map((line) => `${line}\n`).join('');
}
