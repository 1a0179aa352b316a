/**
 * The one place secrets are read: a config names an environment variable or a file, never
 * the secret itself. Values are returned to the caller that needs them and never logged.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SovraError } from '../shared/errors.js';
import type { SecretRef } from './schema.js';

export function readSecret(ref: SecretRef, baseDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') {
      throw new SovraError('validation', `The environment variable ${ref.env} is not set.`, {
        code: 'SECRET_MISSING',
        fix: `Set ${ref.env} in the sidecar's environment (or point the config at a file with { file: path }).`,
        details: { env: ref.env },
      });
    }
    return v;
  }
  const path = isAbsolute(ref.file) ? ref.file : resolve(baseDir, ref.file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new SovraError('validation', `The secret file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, {
      code: 'SECRET_MISSING',
      fix: 'Check the path and that the sidecar user may read it (mode 0600, owned by that user).',
      details: { file: path },
    });
  }
}

/** Reads an environment variable for the few settings that may come from the environment. */
export function envValue(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
