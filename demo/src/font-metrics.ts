import { readFileSync } from 'node:fs';

/**
 * Advance widths of a TrueType font, read from its `cmap` (format 4) and `hmtx` tables,
 * so a chart can be laid out for the font it is drawn in. Vega's own guess without a
 * canvas (0.8 em per character) is far too wide and leaves blank space beside the chart.
 */
export class FontMetrics {
  private readonly advances: number[];
  private readonly glyphOf = new Map<number, number>();
  private readonly unitsPerEm: number;

  constructor(font: Buffer) {
    const tables = new Map<string, number>();
    const numTables = font.readUInt16BE(4);
    for (let i = 0; i < numTables; i++) {
      const record = 12 + i * 16;
      tables.set(font.toString('latin1', record, record + 4), font.readUInt32BE(record + 8));
    }
    const table = (tag: string): number => {
      const offset = tables.get(tag);
      if (offset === undefined) throw new Error(`font has no ${tag} table`);
      return offset;
    };
    this.unitsPerEm = font.readUInt16BE(table('head') + 18);
    const metricsCount = font.readUInt16BE(table('hhea') + 34);
    const hmtx = table('hmtx');
    this.advances = Array.from({ length: metricsCount }, (_, i) => font.readUInt16BE(hmtx + i * 4));
    this.readCmap(font, table('cmap'));
  }

  static fromFile(file: string): FontMetrics {
    return new FontMetrics(readFileSync(file));
  }

  /** Width in pixels of `text` at `fontSize` pixels (no kerning: a hair wide, never narrow). */
  width(text: string, fontSize: number): number {
    let units = 0;
    for (const char of text) {
      const glyph = this.glyphOf.get(char.codePointAt(0) ?? 0) ?? 0;
      units += this.advances[Math.min(glyph, this.advances.length - 1)] ?? 0;
    }
    return (units * fontSize) / this.unitsPerEm;
  }

  /** The Unicode BMP subtable (platform 3, encoding 1, format 4). */
  private readCmap(font: Buffer, cmap: number): void {
    const count = font.readUInt16BE(cmap + 2);
    for (let i = 0; i < count; i++) {
      const record = cmap + 4 + i * 8;
      const subtable = cmap + font.readUInt32BE(record + 4);
      if (
        font.readUInt16BE(record) === 3 &&
        font.readUInt16BE(record + 2) === 1 &&
        font.readUInt16BE(subtable) === 4
      ) {
        this.readFormat4(font, subtable);
        return;
      }
    }
    throw new Error('font has no Unicode BMP cmap');
  }

  private readFormat4(font: Buffer, at: number): void {
    const segments = font.readUInt16BE(at + 6) / 2;
    const ends = at + 14;
    const starts = ends + segments * 2 + 2;
    const deltas = starts + segments * 2;
    const rangeOffsets = deltas + segments * 2;
    for (let s = 0; s < segments; s++) {
      const start = font.readUInt16BE(starts + s * 2);
      const end = font.readUInt16BE(ends + s * 2);
      const delta = font.readInt16BE(deltas + s * 2);
      const rangeOffsetAt = rangeOffsets + s * 2;
      const rangeOffset = font.readUInt16BE(rangeOffsetAt);
      for (let code = start; code <= end && code !== 0xffff; code++) {
        let glyph: number;
        if (rangeOffset === 0) {
          glyph = (code + delta) & 0xffff;
        } else {
          const raw = font.readUInt16BE(rangeOffsetAt + rangeOffset + (code - start) * 2);
          glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
        }
        if (glyph !== 0) this.glyphOf.set(code, glyph);
      }
    }
  }
}
