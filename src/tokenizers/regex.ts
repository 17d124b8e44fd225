/**
 * tokenizer.json patterns are written for Oniguruma (the Rust tokenizers crate). JavaScript's `u`-mode
 * RegExp reads the common ones the same way, except for inline case-insensitive groups `(?i:...)` used by
 * Llama-3 and Qwen2: those are rewritten by expanding each ASCII letter to a two-case class.
 */

export function compilePattern(pattern: string, where: string): RegExp {
  try {
    return new RegExp(expandCaseInsensitiveGroups(pattern), 'gu');
  } catch (error) {
    throw new Error(`${where}: pattern ${JSON.stringify(pattern)} is not supported (${(error as Error).message})`);
  }
}

function expandCaseInsensitiveGroups(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?i:', i)) {
      const end = groupEnd(pattern, i);
      out += '(?:' + foldLetters(pattern.slice(i + 4, end)) + ')';
      i = end + 1;
    } else if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i += 2;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

/** Index of the parenthesis closing the group opened at `start`. */
function groupEnd(pattern: string, start: number): number {
  let depth = 0,
    inClass = false;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced group in pattern ${JSON.stringify(pattern)}`);
}

function foldLetters(body: string): string {
  let out = '',
    inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      out += body.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      out += /[a-zA-Z]/.test(c) ? c.toLowerCase() + c.toUpperCase() : c;
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    out += /[a-zA-Z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
  }
  return out;
}
