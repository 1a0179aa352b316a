import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { createSanitizer, DEFAULT_COUNTRIES, JURISDICTION_COUNTRIES, sanitizeJsonl } from '../../sanitize/index.js';
import type { JsonlSummary } from '../../sanitize/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'sanitize');

export type SanitizeResult = JsonlSummary & { tenant?: string; jurisdiction?: string; countries: string[] };

export default class Sanitize extends SfCommand<SanitizeResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');
  // stdout carries the JSONL stream; a JSON result document would corrupt it.
  public static override readonly enableJsonFlag = false;

  public static override readonly flags = {
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
    countries: Flags.string({ char: 'c', summary: messages.getMessage('flags.countries.summary') }),
    'max-line-bytes': Flags.integer({ summary: messages.getMessage('flags.max-line-bytes.summary'), min: 1024, default: 32 * 1024 * 1024 }),
  };

  public async run(): Promise<SanitizeResult> {
    const { flags } = await this.parse(Sanitize);
    let countries: readonly string[] = DEFAULT_COUNTRIES;
    if (flags.countries)
      countries = flags.countries
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    else if (flags.jurisdiction) {
      const j = JURISDICTION_COUNTRIES[flags.jurisdiction.toUpperCase()];
      if (!j) throw messages.createError('error.jurisdiction', [flags.jurisdiction], [Object.keys(JURISDICTION_COUNTRIES).join(', ')]);
      countries = j;
    }
    const sanitizer = createSanitizer({ countries });
    const summary = await sanitizeJsonl(process.stdin, process.stdout, { sanitizer, maxLineBytes: flags['max-line-bytes'] });
    this.logToStderr(messages.getMessage('info.summary', [summary.lines, summary.ok, summary.errors, summary.entities]));
    return { ...summary, tenant: flags.tenant, jurisdiction: flags.jurisdiction, countries: [...countries] };
  }
}
