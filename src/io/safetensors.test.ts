import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, readSafetensorsModel, writeSafetensors, type NamedArray } from './safetensors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pharmacist-st-'));

/** A file built byte by byte from the format spec, independent of our writer. */
function handMade(path: string, header: object, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([size, json, data]));
}

test('write then read round-trips names, shapes, values and metadata, atomically', () => {
  const dir = tmp();
  const tensors = new Map<string, NamedArray>([
    ['model.embed_tokens.weight', { data: Float32Array.from([1, -2, 3.5, 1e-30, 7, 8]), shape: [3, 2] }],
    ['model.norm.weight', { data: Float32Array.from([0.25]), shape: [1] }],
    ['empty', { data: new Float32Array(0), shape: [0, 4] }],
  ]);
  const path = join(dir, 'model.safetensors');
  writeSafetensors(path, tensors, { format: 'pt' });
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temp file left behind');
  const f = openSafetensors(path);
  assert.deepEqual(f.metadata, { format: 'pt' });
  assert.deepEqual(f.names.sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) assert.deepEqual(f.read(name), t);
  f.close();
});

test('F16 and BF16 are converted to float32 exactly', () => {
  const path = join(tmp(), 'half.safetensors');
  const f16 = Buffer.alloc(8),
    bf16 = Buffer.alloc(4);
  [0x3c00, 0xc000, 0x3800, 0x0001].forEach((h, i) => f16.writeUInt16LE(h, 2 * i)); // 1, -2, 0.5, 2^-24
  [0x3f80, 0xc060].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i)); // 1, -3.5
  handMade(
    path,
    {
      a: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
    },
    Buffer.concat([f16, bf16]),
  );
  const f = openSafetensors(path);
  assert.deepEqual(Array.from(f.read('a').data), [1, -2, 0.5, 2 ** -24]);
  assert.deepEqual(f.read('a').shape, [2, 2]);
  assert.deepEqual(Array.from(f.read('b').data), [1, -3.5]);
  f.close();
});

test('sharded folders are read through model.safetensors.index.json', () => {
  const dir = tmp();
  writeSafetensors(
    join(dir, 'model-00001-of-00002.safetensors'),
    new Map([['a', { data: Float32Array.from([1, 2]), shape: [2] }]]),
  );
  writeSafetensors(
    join(dir, 'model-00002-of-00002.safetensors'),
    new Map([['b', { data: Float32Array.from([3]), shape: [1] }]]),
  );
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: {},
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
    }),
  );
  const all = readSafetensorsModel(dir);
  assert.deepEqual([...all.keys()].sort(), ['a', 'b']);
  assert.deepEqual(Array.from(all.get('b')!.data), [3]);
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { a: 'model-00002-of-00002.safetensors' } }),
  );
  assert.throws(
    () => readSafetensorsModel(dir),
    /tensor "a" is mapped to model-00002-of-00002.safetensors but that shard does not contain it/,
  );
});

test('bad files are clear errors naming the file, tensor and field', () => {
  const dir = tmp();
  const p = (name: string) => join(dir, name);
  handMade(p('dtype.safetensors'), { w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8));
  assert.throws(
    () => openSafetensors(p('dtype.safetensors')),
    /dtype\.safetensors: tensor "w": field dtype = "I64" is not supported/,
  );
  handMade(p('short.safetensors'), { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8));
  assert.throws(
    () => openSafetensors(p('short.safetensors')),
    /short\.safetensors: tensor "w": data ends at byte 16 but the data section has 8 bytes/,
  );
  handMade(p('span.safetensors'), { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8));
  assert.throws(() => openSafetensors(p('span.safetensors')), /span 8 bytes but F32 \[3\] needs 12/);
  writeFileSync(p('json.safetensors'), Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{no}')]));
  assert.throws(() => openSafetensors(p('json.safetensors')), /json\.safetensors: header is not valid JSON/);
  writeFileSync(p('tiny.safetensors'), Buffer.from([1, 2]));
  assert.throws(() => openSafetensors(p('tiny.safetensors')), /too short/);
  assert.throws(() => openSafetensors(p('missing.safetensors')), /missing\.safetensors: file not found/);
});

test('tensor data must tile the data section exactly: overlaps, gaps, trailing bytes and stray offsets are refused', () => {
  const dir = tmp();
  const write = (name: string, header: object, bytes: number) => {
    handMade(join(dir, name), header, Buffer.alloc(bytes));
    return join(dir, name);
  };
  const f32 = (begin: number, end: number) => ({
    dtype: 'F32',
    shape: [(end - begin) / 4],
    data_offsets: [begin, end],
  });
  const refused = (file: string, message: RegExp) => assert.throws(() => openSafetensors(file), message);

  refused(
    write('overlap.safetensors', { a: f32(0, 8), b: f32(4, 12) }, 12),
    /overlap\.safetensors: tensors "a" \(bytes \[0, 8\)\) and "b" \(bytes \[4, 12\)\) overlap/,
  );
  refused(
    write('alias.safetensors', { w: f32(0, 8), tied: f32(0, 8) }, 8),
    /alias\.safetensors: tensors "tied" \(bytes \[0, 8\)\) and "w" \(bytes \[0, 8\)\) overlap/,
  );
  refused(
    write('gap.safetensors', { a: f32(0, 4), b: f32(8, 12) }, 12),
    /gap\.safetensors: tensor "b" starts at byte 8 but the previous tensor "a" ends at byte 4: a 4-byte gap/,
  );
  refused(
    write('late.safetensors', { a: f32(4, 8) }, 8),
    /late\.safetensors: tensor "a" starts at byte 4 but the data section starts at 0: a 4-byte gap/,
  );
  refused(
    write('trailing.safetensors', { b: f32(4, 8), a: f32(0, 4) }, 12),
    /trailing\.safetensors: the data section has 12 bytes but the last tensor, "b", ends at byte 8: 4 trailing bytes/,
  );
  refused(
    write('none.safetensors', { __metadata__: { format: 'pt' } }, 4),
    /none\.safetensors: the data section has 4 bytes but there are no tensors: 4 trailing bytes/,
  );
  refused(
    write('range.safetensors', { a: f32(0, 4), b: f32(4, 1 << 20) }, 8),
    /range\.safetensors: tensor "b": data ends at byte 1048576 but the data section has 8 bytes/,
  );
  refused(
    write('backwards.safetensors', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, 8),
    /backwards\.safetensors: tensor "a": field data_offsets = \[8,4\] is not \[begin, end\]/,
  );
  refused(
    write('negative.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 4),
    /negative\.safetensors: tensor "a": field data_offsets = \[-4,0\] is not \[begin, end\]/,
  );

  // Out of header order, with an empty tensor between two others: contiguous in offset order, so accepted.
  const fine = write('fine.safetensors', { c: f32(8, 12), empty: f32(4, 4), a: f32(0, 4), b: f32(4, 8) }, 12);
  const f = openSafetensors(fine);
  assert.deepEqual(f.names.sort(), ['a', 'b', 'c', 'empty']);
  assert.deepEqual(f.read('empty').shape, [0]);
  f.close();
  const empty = openSafetensors(write('empty.safetensors', {}, 0));
  assert.deepEqual(empty.names, []);
  empty.close();
});
