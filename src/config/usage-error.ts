/**
 * A command used wrongly: an unknown or malformed flag or setting. The CLI exits with code 2 for these (and
 * for commander's own usage errors), 1 for failures of the work itself.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
