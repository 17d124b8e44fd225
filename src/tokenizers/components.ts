/**
 * The pipeline stages of a tokenizer.json, built from their JSON specs: normalizers (text -> text),
 * pre-tokenizers (text -> pieces), decoders (tokens -> text). Each supports the types real checkpoints use
 * (GPT-2, Llama-2, Llama-3, Qwen2, Mistral, Gemma); any other type is an error that names where it sits.
 * Semantics follow the Rust `tokenizers` crate.
 */
import { GPT2_PATTERN, bytesToChars, charsToText, decodeUtf8 } from './byte-level.js';
import { compilePattern } from './regex.js';

type Json = Record<string, unknown>;
export type Normalizer = (text: string) => string;
/** isFirst: whether the segment starts the input (Metaspace's "first" prepend scheme needs it). */
export type PreTokenizer = (pieces: string[], isFirst: boolean) => string[];
export type Decoder = (tokens: string[]) => string[];

function unsupported(where: string, spec: Json): never {
  throw new Error(`${where}: type ${JSON.stringify(spec?.type)} is not supported`);
}

/** A `pattern` field: {"String": "..."} or {"Regex": "..."}. */
function patternOf(spec: Json, where: string): RegExp {
  const p = spec.pattern as Json | undefined;
  if (p && typeof p.String === 'string') return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  if (p && typeof p.Regex === 'string') return compilePattern(p.Regex, `${where}.pattern`);
  throw new Error(`${where}.pattern: expected {"String": ...} or {"Regex": ...}`);
}

export function buildNormalizer(spec: Json | null | undefined, where: string): Normalizer {
  if (!spec) return (t) => t;
  switch (spec.type) {
    case 'Sequence': {
      const parts = (spec.normalizers as Json[]).map((s, i) => buildNormalizer(s, `${where}.normalizers[${i}]`));
      return (t) => parts.reduce((acc, f) => f(acc), t);
    }
    case 'Prepend':
      return (t) => (t.length > 0 ? (spec.prepend as string) + t : t);
    case 'Replace': {
      const re = patternOf(spec, where);
      return (t) => t.replace(re, () => spec.content as string);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (t) => t.normalize(spec.type as string);
    case 'Lowercase':
      return (t) => t.toLowerCase();
    case 'Strip':
      return (t) => {
        let s = t;
        if (spec.strip_left !== false) s = s.replace(/^\s+/u, '');
        if (spec.strip_right !== false) s = s.replace(/\s+$/u, '');
        return s;
      };
    default:
      return unsupported(where, spec);
  }
}

/** Split by a regex, keeping pieces according to the crate's SplitDelimiterBehavior. */
function splitBy(text: string, re: RegExp, behavior: string, invert: boolean): string[] {
  const spans: { text: string; match: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    if (m.index! > last) spans.push({ text: text.slice(last, m.index), match: false });
    spans.push({ text: m[0], match: true });
    last = m.index! + m[0].length;
  }
  if (last < text.length) spans.push({ text: text.slice(last), match: false });
  if (invert) for (const s of spans) s.match = !s.match;
  const out: string[] = [];
  switch (behavior) {
    case 'Isolated':
      return spans.map((s) => s.text);
    case 'Removed':
      return spans.filter((s) => !s.match).map((s) => s.text);
    case 'MergedWithPrevious':
      for (const s of spans)
        if (s.match && out.length > 0) out[out.length - 1] += s.text;
        else out.push(s.text);
      return out;
    case 'MergedWithNext': {
      let carry = '';
      for (const s of spans)
        if (s.match) carry += s.text;
        else {
          out.push(carry + s.text);
          carry = '';
        }
      if (carry) out.push(carry);
      return out;
    }
    default:
      throw new Error(`split behavior "${behavior}" is not supported`);
  }
}

/** Metaspace's replacement character and prepend scheme (older files say add_prefix_space instead). */
function metaspaceOptions(spec: Json): { replacement: string; scheme: string } {
  return {
    replacement: (spec.replacement as string) ?? '▁',
    scheme: (spec.prepend_scheme as string) ?? (spec.add_prefix_space === false ? 'never' : 'always'),
  };
}

export function buildPreTokenizer(spec: Json | null | undefined, where: string): PreTokenizer {
  if (!spec) return (pieces) => pieces;
  switch (spec.type) {
    case 'Sequence': {
      const parts = (spec.pretokenizers as Json[]).map((s, i) => buildPreTokenizer(s, `${where}.pretokenizers[${i}]`));
      return (pieces, isFirst) => parts.reduce((acc, f) => f(acc, isFirst), pieces);
    }
    case 'Split': {
      const re = patternOf(spec, where);
      const behavior = (spec.behavior as string) ?? 'Isolated';
      if (!['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext'].includes(behavior))
        throw new Error(`${where}.behavior: "${behavior}" is not supported`);
      return (pieces) => pieces.flatMap((p) => splitBy(p, re, behavior, spec.invert === true));
    }
    case 'ByteLevel': {
      const re = spec.use_regex === false ? null : compilePattern(GPT2_PATTERN, where);
      const prefix = spec.add_prefix_space === true;
      return (pieces, isFirst) =>
        pieces.flatMap((p, i) => {
          const text = prefix && isFirst && i === 0 && !p.startsWith(' ') ? ' ' + p : p;
          return (re ? (text.match(re) ?? []) : [text]).map(bytesToChars);
        });
    }
    case 'Metaspace': {
      const { replacement, scheme } = metaspaceOptions(spec);
      const split = spec.split !== false;
      return (pieces, isFirst) =>
        pieces.flatMap((p, i) => {
          let text = p.replaceAll(' ', replacement);
          const prepend = scheme === 'always' || (scheme === 'first' && isFirst && i === 0);
          if (prepend && !text.startsWith(replacement)) text = replacement + text;
          if (!split) return [text];
          return splitBy(text, new RegExp(replacement, 'gu'), 'MergedWithNext', false);
        });
    }
    case 'Digits': {
      const re = spec.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return (pieces) => pieces.flatMap((p) => splitBy(p, re, 'Isolated', false));
    }
    case 'Whitespace':
      return (pieces) => pieces.flatMap((p) => p.match(/\w+|[^\w\s]+/gu) ?? []);
    case 'WhitespaceSplit':
      return (pieces) => pieces.flatMap((p) => p.split(/\s+/u).filter(Boolean));
    default:
      return unsupported(where, spec);
  }
}

export function buildDecoder(spec: Json | null | undefined, where: string): Decoder {
  if (!spec) return (tokens) => tokens;
  switch (spec.type) {
    case 'Sequence': {
      const parts = (spec.decoders as Json[]).map((s, i) => buildDecoder(s, `${where}.decoders[${i}]`));
      return (tokens) => parts.reduce((acc, f) => f(acc), tokens);
    }
    case 'ByteLevel':
      return (tokens) => [charsToText(tokens.join(''))];
    case 'Replace': {
      const re = patternOf(spec, where);
      return (tokens) => tokens.map((t) => t.replace(re, () => spec.content as string));
    }
    case 'ByteFallback':
      return byteFallbackDecode;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = spec.content as string,
        start = (spec.start as number) ?? 0,
        stop = (spec.stop as number) ?? 0;
      return (tokens) =>
        tokens.map((t) => {
          let s = t;
          for (let k = 0; k < start && s.startsWith(content); k++) s = s.slice(content.length);
          for (let k = 0; k < stop && s.endsWith(content); k++) s = s.slice(0, -content.length);
          return s;
        });
    }
    case 'Metaspace': {
      const { replacement, scheme } = metaspaceOptions(spec);
      return (tokens) =>
        tokens.map((t, i) => {
          const s = t.replaceAll(replacement, ' ');
          return i === 0 && scheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s;
        });
    }
    default:
      return unsupported(where, spec);
  }
}

/** Runs of <0xXX> tokens become the text their bytes spell (U+FFFD per invalid sequence, as the crate does). */
function byteFallbackDecode(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    const text = decodeUtf8(bytes);
    if (text.includes('\uFFFD')) for (let k = 0; k < bytes.length; k++) out.push('\uFFFD');
    else out.push(text);
    bytes = [];
  };
  for (const t of tokens) {
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
    if (m) bytes.push(parseInt(m[1], 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}
