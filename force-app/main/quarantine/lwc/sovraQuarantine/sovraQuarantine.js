import { LightningElement, wire } from 'lwc';
import { refreshApex } from '@salesforce/apex';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import LightningConfirm from 'lightning/confirm';
import getQueue from '@salesforce/apex/QuarantineController.getQueue';
import release from '@salesforce/apex/QuarantineController.release';
import purge from '@salesforce/apex/QuarantineController.purge';

const DATE_FORMAT = { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' };
const COLUMNS = [
  { label: 'Entry', fieldName: 'Name', initialWidth: 140 },
  { label: 'Status', fieldName: 'Status__c', initialWidth: 100 },
  { label: 'Object', fieldName: 'ObjectApiName__c', initialWidth: 120 },
  { label: 'Record', fieldName: 'RecordId__c' },
  { label: 'Reason', fieldName: 'Reason__c', wrapText: true },
  { label: 'Detected', fieldName: 'DetectedJurisdiction__c', initialWidth: 100 },
  { label: 'Expected', fieldName: 'ExpectedJurisdiction__c', initialWidth: 100 },
  { label: 'Quarantined', fieldName: 'CreatedDate', type: 'date', typeAttributes: DATE_FORMAT },
];

/**
 * The quarantine queue: records a sidecar refused to process because their jurisdiction was unknown
 * or foreign. Users with AiQuarantineRelease release them; with AiAdmin as well, purge them.
 */
export default class SovraQuarantine extends LightningElement {
  status = 'Open';
  queue;
  error;
  actionError;
  selectedIds = [];
  working = false;
  columns = COLUMNS;
  wiredQueue;

  statusOptions = [
    { label: 'Open', value: 'Open' },
    { label: 'Released', value: 'Released' },
    { label: 'Purged', value: 'Purged' },
    { label: 'All', value: '' },
  ];

  @wire(getQueue, { status: '$status' })
  wiredGetQueue(result) {
    this.wiredQueue = result;
    if (result.data) {
      this.queue = result.data;
      this.error = undefined;
    } else if (result.error) {
      this.error = result.error;
      this.queue = undefined;
    }
  }

  handleStatusChange(event) {
    this.status = event.detail.value;
    this.selectedIds = [];
  }

  handleRowSelection(event) {
    this.selectedIds = event.detail.selectedRows.map((row) => row.Id);
  }

  handleRelease() {
    this.run(release, 'released');
  }

  async handlePurge() {
    const confirmed = await LightningConfirm.open({
      message: `Purge ${this.selectedIds.length} entr${this.selectedIds.length === 1 ? 'y' : 'ies'}? The question and answer of each quarantined request are erased. This cannot be undone.`,
      variant: 'header',
      theme: 'warning',
      label: 'Purge quarantined records',
    });
    if (confirmed) {
      this.run(purge, 'purged');
    }
  }

  run(operation, verb) {
    this.working = true;
    this.actionError = undefined;
    return operation({ ids: this.selectedIds })
      .then((count) => {
        this.dispatchEvent(
          new ShowToastEvent({ title: 'Quarantine', message: `${count} entr${count === 1 ? 'y' : 'ies'} ${verb}.`, variant: 'success' }),
        );
        this.selectedIds = [];
        return refreshApex(this.wiredQueue);
      })
      .catch((error) => {
        this.actionError = error;
      })
      .finally(() => {
        this.working = false;
      });
  }

  get items() {
    return this.queue ? this.queue.items : [];
  }

  get hasItems() {
    return this.items.length > 0;
  }

  get canRelease() {
    return !!(this.queue && this.queue.canRelease);
  }

  get canPurge() {
    return !!(this.queue && this.queue.canPurge);
  }

  get hideCheckboxes() {
    return !this.canRelease;
  }

  get nothingSelected() {
    return this.selectedIds.length === 0 || this.working;
  }
}
