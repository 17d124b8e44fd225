/** Softmax and log-softmax over the last dimension. */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { Tensor, allocateUninitialized } from '../tensor.js';

function softmaxLike(x: Tensor, log: boolean): Tensor {
  const be = getBackend();
  const C = x.shape[x.rank - 1];
  const R = x.size / C;
  const y = allocateUninitialized(x.size, x.data);
  be.softmaxForward(x.data, y, R, C, log);
  // Saves only the output: both backward forms are functions of y.
  return record(log ? 'logSoftmax' : 'softmax', new Tensor(y, x.shape), [x], (dy) => {
    const dx = allocateUninitialized(x.size, dy);
    be.softmaxBackward(y, dy, dx, R, C, log);
    return [dx];
  });
}

export const softmax = (x: Tensor): Tensor => softmaxLike(x, false);
export const logSoftmax = (x: Tensor): Tensor => softmaxLike(x, true);
