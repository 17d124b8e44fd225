/**
 * GPT-2's byte-level alphabet: every byte maps to a printable unicode character, so that byte-level BPE
 * vocabularies are strings (bytes_to_unicode in openai/gpt-2's encoder.py). Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 onwards, in byte order.
 */

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function bytesToChars(text: string): string {
  let out = '';
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/** Inverse of bytesToChars; characters outside the alphabet pass through as their UTF-8 bytes. */
export function charsToText(chars: string): string {
  const bytes: number[] = [];
  for (const c of chars) {
    const b = CHAR_TO_BYTE.get(c);
    if (b !== undefined) bytes.push(b);
    else bytes.push(...encoder.encode(c));
  }
  return decoder.decode(Uint8Array.from(bytes));
}

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeUtf8(bytes: ArrayLike<number>): string {
  return decoder.decode(Uint8Array.from(bytes));
}

/** The pre-tokenization pattern of GPT-2 (also the ByteLevel pre-tokenizer's default). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
