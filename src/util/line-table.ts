/**
 * Where each line of a text starts, to turn an offset into the 1-based line and column that
 * messages cite, as the `yaml` package's LineCounter does for the text it parses: a file the
 * fast YAML reader read gets its positions without loading that package, and the JSON and
 * pfSense readers of rendered files cite their lines the same way.
 */
export class LineTable {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  linePos(offset: number): { line: number; col: number } {
    // The last line that starts at or before the offset.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}
