/**
 * How a SovraError reaches the CLI: as an SfError with its code and its fix as the action,
 * so `--json` results and the terminal show both. The one place commands convert errors.
 */
import { SfError } from '@salesforce/core';
import { isSovraError } from './errors.js';

export function toSfError(err: unknown): unknown {
  return isSovraError(err) ? new SfError(err.message, err.code, err.fix ? [err.fix] : [], err) : err;
}
