import { createElement } from '@lwc/engine-dom';
import SovraAiAction from 'c/sovraAiAction';
import { subscribe, unsubscribe, jestMockPublish, jestMockReset } from 'lightning/empApi';
import getActionPanel from '@salesforce/apex/SovraActionController.getActionPanel';
import submitAction from '@salesforce/apex/SovraActionController.submitAction';
import getRequest from '@salesforce/apex/SovraActionController.getRequest';
import { registerSa11yMatcher } from '@sa11y/jest';

const mockPanel = require('./data/getActionPanel.json');
const mockPanelUnknown = require('./data/getActionPanelUnknown.json');
const mockSubmit = require('./data/submitAction.json');
const mockCompleted = require('./data/getRequestCompleted.json');
const mockQuarantined = require('./data/getRequestQuarantined.json');
const mockResultEvent = require('./data/resultEvent.json');

// The wire adapter comes from @salesforce/wire-service-jest-util (what sfdx-lwc-jest re-exports):
// requiring '@salesforce/sfdx-lwc-jest' itself fails under --experimental-vm-modules, because it
// also loads the ESM-only @lwc/state-test-utils.
jest.mock(
  '@salesforce/apex/SovraActionController.getActionPanel',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/wire-service-jest-util');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);
jest.mock('@salesforce/apex/SovraActionController.submitAction', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/SovraActionController.getRequest', () => ({ default: jest.fn() }), { virtual: true });

registerSa11yMatcher();

const RECORD_ID = '001000000000001AAA';

// Resolves pending promises (Apex calls, empApi subscribe) and re-renders.
// eslint-disable-next-line @lwc/lwc/no-async-operation
const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function createComponent() {
  const element = createElement('c-sovra-ai-action', { is: SovraAiAction });
  element.recordId = RECORD_ID;
  document.body.appendChild(element);
  return element;
}

describe('c-sovra-ai-action', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
    jestMockReset();
  });

  it('shows the jurisdiction badge and one button per allowed action', async () => {
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();

    const badge = element.shadowRoot.querySelector('lightning-badge');
    expect(badge.label).toBe('Data jurisdiction: EU');
    const buttons = element.shadowRoot.querySelectorAll('.actions lightning-button');
    expect(Array.from(buttons).map((b) => b.label)).toEqual(['Ask about this account', 'Summarize account']);
    expect(element.shadowRoot.querySelector('lightning-textarea')).not.toBeNull();
    expect(subscribe).toHaveBeenCalledWith('/event/sovra__AiResult__e', -1, expect.any(Function));
  });

  it('explains why no action can run when the jurisdiction is unknown', async () => {
    const element = createComponent();
    getActionPanel.emit(mockPanelUnknown);
    await flushPromises();

    expect(element.shadowRoot.querySelector('lightning-badge').label).toBe('Data jurisdiction: unknown');
    expect(element.shadowRoot.querySelector('.unavailable').textContent).toBe(mockPanelUnknown.unavailableReason);
    expect(element.shadowRoot.querySelectorAll('.actions lightning-button').length).toBe(0);
  });

  it('submits an action, waits, and shows the answer when AiResult__e arrives', async () => {
    submitAction.mockResolvedValue(mockSubmit);
    getRequest.mockResolvedValue(mockCompleted);
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();

    element.shadowRoot.querySelector('lightning-button[data-name="AccountSummary"]').click();
    await flushPromises();
    expect(submitAction).toHaveBeenCalledWith({ recordId: RECORD_ID, action: 'AccountSummary', question: null });
    expect(element.shadowRoot.querySelector('.status').textContent).toContain('Queued');
    expect(element.shadowRoot.querySelector('lightning-spinner')).not.toBeNull();
    expect(getRequest).not.toHaveBeenCalled();

    await jestMockPublish('/event/sovra__AiResult__e', mockResultEvent);
    await flushPromises();

    expect(getRequest).toHaveBeenCalledWith({ requestId: mockSubmit.requestId });
    expect(element.shadowRoot.querySelector('lightning-formatted-text').value).toBe(mockCompleted.answer);
    expect(element.shadowRoot.querySelector('.where').textContent).toBe('Processed in eu-central-1 by llama-3.1-8b-instruct');
    expect(element.shadowRoot.querySelector('lightning-spinner')).toBeNull();
  });

  it('ignores results of other requests', async () => {
    submitAction.mockResolvedValue(mockSubmit);
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button[data-name="AccountSummary"]').click();
    await flushPromises();

    const other = JSON.parse(JSON.stringify(mockResultEvent));
    other.data.payload.sovra__RequestId__c = 'a01000000000099AAA';
    await jestMockPublish('/event/sovra__AiResult__e', other);
    await flushPromises();

    expect(getRequest).not.toHaveBeenCalled();
  });

  it('shows why a request was quarantined', async () => {
    submitAction.mockResolvedValue(mockSubmit);
    getRequest.mockResolvedValue(mockQuarantined);
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button[data-name="AccountSummary"]').click();
    await flushPromises();
    await jestMockPublish('/event/sovra__AiResult__e', mockResultEvent);
    await flushPromises();

    const refusal = element.shadowRoot.querySelector('.refusal');
    expect(refusal.getAttribute('role')).toBe('alert');
    expect(refusal.textContent).toContain('JURISDICTION_MISMATCH');
    expect(element.shadowRoot.querySelector('.answer')).toBeNull();
  });

  it('refuses an ask action without a question, without calling Apex', async () => {
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();

    element.shadowRoot.querySelector('lightning-button[data-name="AccountAsk"]').click();
    await flushPromises();

    expect(submitAction).not.toHaveBeenCalled();
    expect(element.shadowRoot.querySelector('c-error-panel')).not.toBeNull();
  });

  it('passes the question of an ask action', async () => {
    submitAction.mockResolvedValue(mockSubmit);
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();

    const textarea = element.shadowRoot.querySelector('lightning-textarea');
    textarea.value = 'Who decides?';
    textarea.dispatchEvent(new CustomEvent('change'));
    element.shadowRoot.querySelector('lightning-button[data-name="AccountAsk"]').click();
    await flushPromises();

    expect(submitAction).toHaveBeenCalledWith({ recordId: RECORD_ID, action: 'AccountAsk', question: 'Who decides?' });
  });

  it('shows the Apex refusal through the error panel', async () => {
    submitAction.mockRejectedValue({ body: { message: 'You are not entitled to AI processing of EU records.' }, status: 500 });
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button[data-name="AccountSummary"]').click();
    await flushPromises();

    const panel = element.shadowRoot.querySelector('c-error-panel');
    expect(panel.errors.body.message).toContain('not entitled');
  });

  it('shows the error panel when the actions cannot be loaded', async () => {
    const element = createComponent();
    getActionPanel.error({ message: 'boom' });
    await flushPromises();

    expect(element.shadowRoot.querySelector('c-error-panel')).not.toBeNull();
  });

  it('unsubscribes when removed from the page', async () => {
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();
    document.body.removeChild(element);

    expect(unsubscribe).toHaveBeenCalled();
  });

  it('is accessible with actions, progress and answer', async () => {
    submitAction.mockResolvedValue(mockSubmit);
    getRequest.mockResolvedValue(mockCompleted);
    const element = createComponent();
    getActionPanel.emit(mockPanel);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button[data-name="AccountSummary"]').click();
    await flushPromises();
    await jestMockPublish('/event/sovra__AiResult__e', mockResultEvent);
    await flushPromises();

    await expect(element).toBeAccessible();
  });
});
