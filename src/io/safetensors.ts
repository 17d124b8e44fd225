/**
 * safetensors: read (F32, F16, BF16 → float32; single file or sharded with model.safetensors.index.json)
 * and write (F32). Format: u64 little-endian header size N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}, then the data.
 * Tensors are read one at a time straight into their Float32Array, so peak memory is the float32 model
 * plus one tensor's raw bytes. Nothing in a file is ever executed: the header is parsed as plain JSON.
 * Reading is strict, like the reference implementation: the tensors' data_offsets must tile the data section
 * exactly (no overlaps, gaps or trailing bytes), and an error names the file and the tensors concerned.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

export interface NamedArray {
  data: Float32Array;
  shape: number[];
}

export type SafetensorsDType = 'F32' | 'F16' | 'BF16';
const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string>;
  names: string[];
  shape(name: string): number[];
  dtype(name: string): SafetensorsDType;
  /** Reads and converts one tensor to float32. */
  read(name: string): NamedArray;
  close(): void;
}

function parseHeader(
  path: string,
  fd: number,
  fileSize: number,
): { entries: Map<string, HeaderEntry>; metadata: Record<string, string>; dataStart: number } {
  if (fileSize < 8) throw new SafetensorsError(path, `file is ${fileSize} bytes, too short for a safetensors header`);
  const sizeBuf = Buffer.alloc(8);
  readSync(fd, sizeBuf, 0, 8, 0);
  const headerSize = Number(sizeBuf.readBigUInt64LE(0));
  if (headerSize > MAX_HEADER_BYTES || 8 + headerSize > fileSize) {
    throw new SafetensorsError(
      path,
      `header size ${headerSize} is impossible for a ${fileSize}-byte file (truncated or not safetensors)`,
    );
  }
  const headerBuf = Buffer.alloc(headerSize);
  readSync(fd, headerBuf, 0, headerSize, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBuf.toString('utf8'));
  } catch (error) {
    throw new SafetensorsError(path, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new SafetensorsError(path, 'header is not a JSON object');
  const dataStart = 8 + headerSize;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, HeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `tensor "${name}"`;
    if (typeof e !== 'object' || e === null) throw new SafetensorsError(path, `${where}: entry is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      throw new SafetensorsError(
        path,
        `${where}: field dtype = ${JSON.stringify(e.dtype)} is not supported (F32, F16, BF16)`,
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        path,
        `${where}: field shape = ${JSON.stringify(e.shape)} is not a list of non-negative integers`,
      );
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw new SafetensorsError(path, `${where}: field data_offsets = ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const dtype = e.dtype as SafetensorsDType;
    const shape = e.shape as number[];
    const expected = shape.reduce((p, d) => p * d, 1) * BYTES[dtype];
    const [begin, end] = offsets as [number, number];
    if (end - begin !== expected)
      throw new SafetensorsError(
        path,
        `${where}: data_offsets span ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`,
      );
    if (end > dataSize)
      throw new SafetensorsError(
        path,
        `${where}: data ends at byte ${end} but the data section has ${dataSize} bytes (truncated file?)`,
      );
    entries.set(name, { dtype, shape, begin, end });
  }
  checkLayout(path, entries, dataSize);
  return { entries, metadata, dataStart };
}

/**
 * The tensors' byte ranges must tile the data section exactly, as the reference implementation requires: in
 * offset order each tensor starts where the previous one ends (the first at 0), and the last ends at the end of
 * the file. Overlapping tensors (two names reading the same bytes), gaps and trailing bytes are refused, naming
 * the tensors concerned.
 */
function checkLayout(path: string, entries: ReadonlyMap<string, HeaderEntry>, dataSize: number): void {
  const sorted = [...entries].sort(
    ([an, a], [bn, b]) => a.begin - b.begin || a.end - b.end || (an < bn ? -1 : an > bn ? 1 : 0),
  );
  const span = (e: HeaderEntry) => `[${e.begin}, ${e.end})`;
  let at = 0;
  let previous: [string, HeaderEntry] | null = null;
  for (const [name, e] of sorted) {
    if (e.begin < at) {
      const [pn, p] = previous!;
      throw new SafetensorsError(
        path,
        `tensors "${pn}" (bytes ${span(p)}) and "${name}" (bytes ${span(e)}) overlap; each byte of the data ` +
          'section belongs to one tensor',
      );
    }
    if (e.begin > at) {
      const after = previous
        ? `the previous tensor "${previous[0]}" ends at byte ${at}`
        : 'the data section starts at 0';
      throw new SafetensorsError(
        path,
        `tensor "${name}" starts at byte ${e.begin} but ${after}: a ${e.begin - at}-byte gap (tensor data must be contiguous)`,
      );
    }
    at = e.end;
    previous = [name, e];
  }
  if (at !== dataSize) {
    const last = previous ? `the last tensor, "${previous[0]}", ends at byte ${at}` : 'there are no tensors';
    throw new SafetensorsError(
      path,
      `the data section has ${dataSize} bytes but ${last}: ${dataSize - at} trailing bytes belong to no tensor`,
    );
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function openSafetensors(path: string): SafetensorsFile {
  if (!existsSync(path)) throw new SafetensorsError(path, 'file not found');
  const fd = openSync(path, 'r');
  let parsed;
  try {
    parsed = parseHeader(path, fd, fstatSync(fd).size);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const { entries, metadata, dataStart } = parsed;
  const entry = (name: string): HeaderEntry => {
    const e = entries.get(name);
    if (!e) throw new SafetensorsError(path, `no tensor named "${name}"`);
    return e;
  };
  return {
    path,
    metadata,
    names: [...entries.keys()],
    shape: (name) => [...entry(name).shape],
    dtype: (name) => entry(name).dtype,
    read(name) {
      const e = entry(name);
      const count = (e.end - e.begin) / BYTES[e.dtype];
      const out = new Float32Array(count);
      if (e.dtype === 'F32') {
        // safetensors is little-endian, as are the hosts Node supports here (x86-64, arm64).
        readSync(fd, new Uint8Array(out.buffer), 0, e.end - e.begin, dataStart + e.begin);
      } else {
        const raw = Buffer.alloc(e.end - e.begin);
        readSync(fd, raw, 0, raw.length, dataStart + e.begin);
        for (let i = 0; i < count; i++) {
          const bits = raw.readUInt16LE(2 * i);
          out[i] = e.dtype === 'BF16' ? bf16ToFloat(bits) : halfToFloat(bits);
        }
      }
      return { data: out, shape: [...e.shape] };
    },
    close: () => closeSync(fd),
  };
}

const bf16Scratch = new DataView(new ArrayBuffer(4));
function bf16ToFloat(bits: number): number {
  bf16Scratch.setUint32(0, bits << 16, true);
  return bf16Scratch.getFloat32(0, true);
}

/** Tensors by name, read one at a time so a loader holds at most one tensor beyond the model itself. */
export interface TensorSource {
  readonly names: readonly string[];
  shape(name: string): number[];
  read(name: string): NamedArray;
  close(): void;
}

/**
 * The weight files of a model folder, in a fixed order: model.safetensors, or the index and then its shards in
 * name order (what a model's content hash reads).
 */
export function modelWeightFiles(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) return [single];
  if (!existsSync(index))
    throw new SafetensorsError(dir, 'neither model.safetensors nor model.safetensors.index.json is here');
  const source = openSafetensorsModel(dir); // validates the index and opens every shard
  source.close();
  const weightMap = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  return [index, ...[...new Set(Object.values(weightMap))].sort().map((shard) => join(dir, shard))];
}

/** The tensors of a model folder: model.safetensors, or the shards listed in model.safetensors.index.json. */
export function openSafetensorsModel(dir: string): TensorSource {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) return openSafetensors(single);
  if (!existsSync(index))
    throw new SafetensorsError(dir, 'neither model.safetensors nor model.safetensors.index.json is here');
  let weightMap: Record<string, string>;
  try {
    weightMap = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  } catch (error) {
    throw new SafetensorsError(index, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof weightMap !== 'object' || weightMap === null)
    throw new SafetensorsError(index, 'field weight_map is missing');
  const shards = new Map<string, SafetensorsFile>();
  const fileOf = (name: string): SafetensorsFile => {
    const shard = weightMap[name];
    if (shard === undefined) throw new SafetensorsError(index, `no tensor named "${name}"`);
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\'))
      throw new SafetensorsError(index, `weight_map["${name}"] = ${JSON.stringify(shard)} is not a shard file name`);
    if (!shards.has(shard)) shards.set(shard, openSafetensors(join(dir, shard)));
    const file = shards.get(shard)!;
    if (!file.names.includes(name))
      throw new SafetensorsError(index, `tensor "${name}" is mapped to ${shard} but that shard does not contain it`);
    return file;
  };
  const names = Object.keys(weightMap);
  for (const name of names) fileOf(name); // validate the whole map up front
  return {
    names,
    shape: (name) => fileOf(name).shape(name),
    read: (name) => fileOf(name).read(name),
    close: () => {
      for (const f of shards.values()) f.close();
    },
  };
}

/** Every tensor of a model folder in memory (tests and tools; loaders use openSafetensorsModel). */
export function readSafetensorsModel(dir: string): Map<string, NamedArray> {
  const source = openSafetensorsModel(dir);
  try {
    return new Map(source.names.map((name) => [name, source.read(name)]));
  } finally {
    source.close();
  }
}

/** Write float32 tensors (sorted by name) atomically; metadata values must be strings. */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, NamedArray>,
  metadata: Record<string, string> = {},
): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const expected = t.shape.reduce((p, d) => p * d, 1);
    if (expected !== t.data.length)
      throw new Error(`writeSafetensors: "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerBytes = Buffer.concat([json, Buffer.from(' '.repeat((8 - (json.length % 8)) % 8))]);
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  writeFileAtomic(path, out);
}
