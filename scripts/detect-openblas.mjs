// Prints 1 when OpenBLAS can be compiled and linked against here (cblas.h and libopenblas), else 0: binding.gyp
// reads it to compile the optional OpenBLAS GEMM in (PK_HAVE_OPENBLAS). The test is a real compile and link of
// a one-line program with the compiler node-gyp will use, so a header without the library (or the reverse)
// counts as absent. PHARMACIST_NO_OPENBLAS=1 forces 0 (to build and test the addon as it is built without it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function detect() {
  if (process.env.PHARMACIST_NO_OPENBLAS === '1') return false;
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-openblas-'));
  try {
    const source = join(dir, 'probe.cc');
    writeFileSync(
      source,
      '#include <cblas.h>\nint main() { float a = 1, b = 1, c = 0;\n' +
        '  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1, &a, 1, &b, 1, 0, &c, 1); return 0; }\n',
    );
    const cxx = process.env.CXX || 'c++';
    const r = spawnSync(cxx, [source, '-o', join(dir, 'probe'), '-lopenblas'], { stdio: 'ignore' });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(detect() ? '1' : '0');
