import { LightningElement, wire } from 'lwc';
import getEntries from '@salesforce/apex/AuditLogController.getEntries';
import getChainStatus from '@salesforce/apex/AuditLogController.getChainStatus';

const ANY = '';
const DATE_FORMAT = { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' };
const COLUMNS = [
  { label: 'When', fieldName: 'occurredAt', type: 'date', typeAttributes: DATE_FORMAT, initialWidth: 190 },
  { label: 'Jurisdiction', fieldName: 'jurisdiction', initialWidth: 110 },
  { label: 'Seq', fieldName: 'sequence', type: 'number', initialWidth: 80 },
  { label: 'Event', fieldName: 'eventType' },
  { label: 'Decision', fieldName: 'decision', initialWidth: 110 },
  { label: 'Reason', fieldName: 'reason', wrapText: true },
  { label: 'User', fieldName: 'actorId' },
  { label: 'Action', fieldName: 'action' },
  { label: 'Endpoint', fieldName: 'endpoint' },
  { label: 'Region', fieldName: 'processingRegion' },
];

/**
 * Audit log for compliance staff: entries filtered by date, jurisdiction, user and decision, and the
 * linkage status of every chain anchored at its latest signed checkpoint.
 */
export default class SovraAuditLog extends LightningElement {
  /** The AuditEntrySelector.Filter sent to Apex; replaced (not mutated) so the wire re-runs. */
  filter = { fromDate: null, toDate: null, jurisdiction: ANY, actorId: ANY, decision: ANY, maxRows: 500 };

  entries = [];
  entriesError;
  chains;
  chainError;
  verifying = false;
  columns = COLUMNS;

  jurisdictionOptions = [
    { label: 'Any jurisdiction', value: ANY },
    { label: 'EU', value: 'EU' },
    { label: 'UK', value: 'UK' },
    { label: 'US', value: 'US' },
  ];

  decisionOptions = [
    { label: 'Any decision', value: ANY },
    { label: 'allow', value: 'allow' },
    { label: 'deny', value: 'deny' },
    { label: 'quarantine', value: 'quarantine' },
    { label: 'refuse', value: 'refuse' },
    { label: 'error', value: 'error' },
  ];

  @wire(getEntries, { filter: '$filter' })
  wiredEntries({ data, error }) {
    if (data) {
      this.entries = data;
      this.entriesError = undefined;
    } else if (error) {
      this.entriesError = error;
      this.entries = [];
    }
  }

  connectedCallback() {
    this.verify();
  }

  verify() {
    this.verifying = true;
    return getChainStatus()
      .then((chains) => {
        this.chains = chains.map((c) => ({
          ...c,
          intact: c.status === 'Intact',
          badgeClass: c.status === 'Intact' ? 'slds-theme_success' : c.status === 'Broken' ? 'slds-theme_error' : '',
          range: c.entriesChecked > 0 ? `sequences ${c.fromSequence}–${c.toSequence} (${c.entriesChecked} entries)` : 'no entries',
          checkpoint:
            c.checkpointSequence != null
              ? `latest signed checkpoint at sequence ${c.checkpointSequence}${c.checkpointMatched ? ' matches' : ''}`
              : 'no signed checkpoint yet',
          hasProblems: c.problems && c.problems.length > 0,
        }));
        this.chainError = undefined;
      })
      .catch((error) => {
        this.chainError = error;
        this.chains = undefined;
      })
      .finally(() => {
        this.verifying = false;
      });
  }

  handleFilterChange(event) {
    const name = event.target.dataset.filter;
    const value = event.detail && event.detail.value !== undefined ? event.detail.value : event.target.value;
    this.filter = { ...this.filter, [name]: value || (name === 'fromDate' || name === 'toDate' ? null : ANY) };
  }

  handleVerify() {
    this.verify();
  }

  get fromDate() {
    return this.filter.fromDate;
  }

  get toDate() {
    return this.filter.toDate;
  }

  get jurisdiction() {
    return this.filter.jurisdiction;
  }

  get actorId() {
    return this.filter.actorId;
  }

  get decision() {
    return this.filter.decision;
  }

  get hasEntries() {
    return this.entries.length > 0;
  }

  get hasChains() {
    return this.chains && this.chains.length > 0;
  }

  get entryCount() {
    return `${this.entries.length} entr${this.entries.length === 1 ? 'y' : 'ies'}`;
  }
}
