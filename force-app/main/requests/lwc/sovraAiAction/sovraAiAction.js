import { LightningElement, api, wire } from 'lwc';
import { subscribe, unsubscribe, onError } from 'lightning/empApi';
import getActionPanel from '@salesforce/apex/SovraActionController.getActionPanel';
import submitAction from '@salesforce/apex/SovraActionController.submitAction';
import getRequest from '@salesforce/apex/SovraActionController.getRequest';
import { payloadField } from 'c/ldsUtils';

const STATUS_TEXT = {
  Queued: 'Queued: waiting for the sidecar of this jurisdiction…',
  Processing: 'Processing inside the jurisdiction…',
  Completed: 'Completed',
  Blocked: 'Blocked by policy',
  Quarantined: 'Quarantined: nothing was sent to any model',
  Failed: 'Failed',
};

/**
 * Record-page component: the AI actions this user may run on this record, the record's data
 * jurisdiction, the request's progress live through lightning/empApi (AiResult__e, which carries
 * no answer), and the answer re-read with the user's own sharing — or why it was refused.
 */
export default class SovraAiAction extends LightningElement {
  @api recordId;

  panel;
  panelError;
  actionError;
  question = '';
  current;
  submitting = false;
  subscription;
  subscribing = false;
  streamingError;
  publishWarning;

  @wire(getActionPanel, { recordId: '$recordId' })
  wiredPanel({ data, error }) {
    if (data) {
      this.panel = data;
      this.panelError = undefined;
      if (!this.current && data.recent && data.recent.length > 0) {
        this.current = data.recent[0];
      }
      this.subscribeToResults(data.resultChannel);
    } else if (error) {
      this.panelError = error;
      this.panel = undefined;
    }
  }

  connectedCallback() {
    onError((error) => {
      this.streamingError = error;
    });
  }

  disconnectedCallback() {
    if (this.subscription) {
      unsubscribe(this.subscription, () => {});
      this.subscription = undefined;
    }
  }

  subscribeToResults(channel) {
    if (this.subscription || this.subscribing || !channel) {
      return;
    }
    this.subscribing = true;
    // -1: only new events. A result missed while the page was closed is re-read on load.
    subscribe(channel, -1, (message) => this.handleResult(message)).then((subscription) => {
      this.subscription = subscription;
      this.subscribing = false;
    });
  }

  handleResult(message) {
    const payload = message && message.data ? message.data.payload : undefined;
    const requestId = payloadField(payload, 'RequestId__c');
    if (!this.current || !requestId || requestId !== this.current.id) {
      return;
    }
    this.refreshRequest();
  }

  refreshRequest() {
    if (!this.current) {
      return Promise.resolve();
    }
    return getRequest({ requestId: this.current.id })
      .then((view) => {
        this.current = view;
        this.actionError = undefined;
      })
      .catch((error) => {
        this.actionError = error;
      });
  }

  handleQuestionChange(event) {
    this.question = event.target.value;
  }

  handleAction(event) {
    const name = event.target.dataset.name;
    const action = this.actions.find((a) => a.name === name);
    if (!action) {
      return;
    }
    if (action.needsQuestion && !this.question.trim()) {
      this.actionError = `Type a question for "${action.label}" first.`;
      return;
    }
    this.submitting = true;
    this.actionError = undefined;
    submitAction({ recordId: this.recordId, action: name, question: action.needsQuestion ? this.question : null })
      .then((outcome) => {
        this.current = { id: outcome.requestId, action: name, status: outcome.status, done: false };
        this.publishWarning = outcome.published ? undefined : outcome.message;
      })
      .catch((error) => {
        this.actionError = error;
      })
      .finally(() => {
        this.submitting = false;
      });
  }

  handleRefresh() {
    this.refreshRequest();
  }

  get actions() {
    return this.panel && this.panel.actions ? this.panel.actions : [];
  }

  get hasActions() {
    return this.actions.length > 0;
  }

  get needsQuestion() {
    return this.actions.some((a) => a.needsQuestion);
  }

  get jurisdictionLabel() {
    return this.panel && this.panel.jurisdiction ? `Data jurisdiction: ${this.panel.jurisdiction}` : 'Data jurisdiction: unknown';
  }

  get jurisdictionBadgeClass() {
    return this.panel && this.panel.jurisdictionKnown ? 'slds-theme_success' : 'slds-theme_warning';
  }

  get busy() {
    return this.submitting || (this.current && !this.current.done);
  }

  get disabled() {
    return this.busy;
  }

  get statusText() {
    return this.current ? STATUS_TEXT[this.current.status] || this.current.status : '';
  }

  get isCompleted() {
    return this.current && this.current.status === 'Completed';
  }

  get isRefused() {
    return this.current && ['Blocked', 'Quarantined', 'Failed'].includes(this.current.status);
  }

  get refusalText() {
    if (!this.isRefused) {
      return '';
    }
    const reason = this.current.reason || 'No reason was given.';
    return this.current.reasonCode ? `${reason} (${this.current.reasonCode})` : reason;
  }

  get processedWhere() {
    if (!this.current || !this.current.processingRegion) {
      return '';
    }
    return this.current.model
      ? `Processed in ${this.current.processingRegion} by ${this.current.model}`
      : `Processed in ${this.current.processingRegion}`;
  }
}
