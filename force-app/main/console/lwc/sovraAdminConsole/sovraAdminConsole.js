import { LightningElement } from 'lwc';
import getOverview from '@salesforce/apex/AdminConsoleController.getOverview';

const JURISDICTION_COLUMNS = [
  { label: 'Jurisdiction', fieldName: 'id', initialWidth: 110 },
  { label: 'Name', fieldName: 'label' },
  { label: 'Health', fieldName: 'health', initialWidth: 110, cellAttributes: { class: { fieldName: 'healthClass' } } },
  { label: 'Detail', fieldName: 'healthDetail', wrapText: true },
  { label: 'Requests (24 h)', fieldName: 'requests24h', type: 'number', initialWidth: 130 },
  { label: 'Blocked', fieldName: 'blocked24h', type: 'number', initialWidth: 90 },
  { label: 'Quarantined', fieldName: 'quarantined24h', type: 'number', initialWidth: 110 },
  { label: 'Failed', fieldName: 'failed24h', type: 'number', initialWidth: 80 },
  { label: 'Countries', fieldName: 'countries', wrapText: true },
];

const ENDPOINT_COLUMNS = [
  { label: 'Jurisdiction', fieldName: 'jurisdiction', initialWidth: 110 },
  { label: 'Endpoint', fieldName: 'endpoint' },
  { label: 'Region', fieldName: 'region' },
  { label: 'Model', fieldName: 'model' },
  { label: 'Requests (7 days)', fieldName: 'requests', type: 'number' },
  {
    label: 'Last answer',
    fieldName: 'lastSeen',
    type: 'date',
    typeAttributes: { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  },
];

const BLOCKED_COLUMNS = [
  { label: 'Request', fieldName: 'Name', initialWidth: 140 },
  { label: 'Jurisdiction', fieldName: 'Jurisdiction__c', initialWidth: 110 },
  { label: 'Action', fieldName: 'Action__c' },
  { label: 'Reason', fieldName: 'Reason__c', wrapText: true },
  { label: 'Code', fieldName: 'ReasonCode__c' },
  {
    label: 'When',
    fieldName: 'CreatedDate',
    type: 'date',
    typeAttributes: { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  },
];

const EGRESS_COLUMNS = [
  { label: 'Entry', fieldName: 'Name', initialWidth: 150 },
  { label: 'Jurisdiction', fieldName: 'Jurisdiction__c', initialWidth: 110 },
  { label: 'Endpoint', fieldName: 'Endpoint__c' },
  { label: 'Reason', fieldName: 'Reason__c', wrapText: true },
  {
    label: 'When',
    fieldName: 'OccurredAt__c',
    type: 'date',
    typeAttributes: { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  },
];

const HEALTH_CLASS = {
  Healthy: 'slds-text-color_success',
  Stalled: 'slds-text-color_error',
  Degraded: 'slds-text-color_error',
  Idle: 'slds-text-color_weak',
  Inactive: 'slds-text-color_weak',
};

/**
 * Admin console: jurisdictions with their health, the endpoints and regions the sidecars reported,
 * recent blocked requests and egress refusals. Loaded imperatively so Refresh always re-reads.
 */
export default class SovraAdminConsole extends LightningElement {
  overview;
  error;
  loading = false;

  jurisdictionColumns = JURISDICTION_COLUMNS;
  endpointColumns = ENDPOINT_COLUMNS;
  blockedColumns = BLOCKED_COLUMNS;
  egressColumns = EGRESS_COLUMNS;

  connectedCallback() {
    this.load();
  }

  load() {
    this.loading = true;
    return getOverview()
      .then((data) => {
        this.overview = data;
        this.error = undefined;
      })
      .catch((error) => {
        this.error = error;
        this.overview = undefined;
      })
      .finally(() => {
        this.loading = false;
      });
  }

  handleRefresh() {
    this.load();
  }

  get jurisdictions() {
    return (this.overview ? this.overview.jurisdictions : []).map((j) => ({ ...j, healthClass: HEALTH_CLASS[j.health] || '' }));
  }

  get endpoints() {
    return this.overview
      ? this.overview.endpoints.map((e) => ({ ...e, key: `${e.jurisdiction}|${e.endpoint}|${e.region}|${e.model}` }))
      : [];
  }

  get blocked() {
    return this.overview ? this.overview.blocked : [];
  }

  get egressRefusals() {
    return this.overview ? this.overview.egressRefusals : [];
  }

  get hasEndpoints() {
    return this.endpoints.length > 0;
  }

  get hasBlocked() {
    return this.blocked.length > 0;
  }

  get hasEgressRefusals() {
    return this.egressRefusals.length > 0;
  }

  get unhealthyCount() {
    return this.jurisdictions.filter((j) => j.health === 'Stalled' || j.health === 'Degraded').length;
  }

  get summary() {
    const n = this.unhealthyCount;
    return n === 0 ? 'All active jurisdictions are healthy or idle.' : `${n} jurisdiction${n === 1 ? ' needs' : 's need'} attention.`;
  }
}
