import { createElement } from '@lwc/engine-dom';
import SovraAuditLog from 'c/sovraAuditLog';
import getEntries from '@salesforce/apex/AuditLogController.getEntries';
import getChainStatus from '@salesforce/apex/AuditLogController.getChainStatus';
import { registerSa11yMatcher } from '@sa11y/jest';

const mockEntries = require('./data/getEntries.json');
const mockChains = require('./data/getChainStatus.json');

// See sovraAiAction.test.js for why the adapter comes from wire-service-jest-util.
jest.mock(
  '@salesforce/apex/AuditLogController.getEntries',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/wire-service-jest-util');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);
jest.mock('@salesforce/apex/AuditLogController.getChainStatus', () => ({ default: jest.fn() }), { virtual: true });

registerSa11yMatcher();

// eslint-disable-next-line @lwc/lwc/no-async-operation
const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function createComponent() {
  const element = createElement('c-sovra-audit-log', { is: SovraAuditLog });
  document.body.appendChild(element);
  return element;
}

describe('c-sovra-audit-log', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
  });

  it('lists the entries the wire returns', async () => {
    getChainStatus.mockResolvedValue(mockChains);
    const element = createComponent();
    getEntries.emit(mockEntries);
    await flushPromises();

    const table = element.shadowRoot.querySelector('lightning-datatable');
    expect(table.data.length).toBe(2);
    expect(element.shadowRoot.querySelector('.count').textContent).toBe('2 entries');
  });

  it('passes every filter to the wire', async () => {
    getChainStatus.mockResolvedValue([]);
    const element = createComponent();
    await flushPromises();

    const set = (selector, value) => {
      const input = element.shadowRoot.querySelector(selector);
      input.value = value;
      input.dispatchEvent(new CustomEvent('change', { detail: { value } }));
    };
    set('[data-filter="fromDate"]', '2026-06-01');
    set('[data-filter="toDate"]', '2026-06-30');
    set('[data-filter="jurisdiction"]', 'EU');
    set('[data-filter="actorId"]', '005000000000001AAA');
    set('[data-filter="decision"]', 'deny');
    await flushPromises();

    expect(getEntries.getLastConfig()).toEqual({
      filter: {
        fromDate: '2026-06-01',
        toDate: '2026-06-30',
        jurisdiction: 'EU',
        actorId: '005000000000001AAA',
        decision: 'deny',
        maxRows: 500,
      },
    });
  });

  it('shows each chain status and names the problems of a broken chain', async () => {
    getChainStatus.mockResolvedValue(mockChains);
    const element = createComponent();
    await flushPromises();

    const badges = element.shadowRoot.querySelectorAll('.chain lightning-badge');
    expect(Array.from(badges).map((b) => b.label)).toEqual(['Intact', 'Broken']);
    const problems = element.shadowRoot.querySelector('.problems');
    expect(problems.getAttribute('role')).toBe('alert');
    expect(problems.textContent).toContain('Sequences 5 to 5 are missing');
  });

  it('verifies again on demand', async () => {
    getChainStatus.mockResolvedValue(mockChains);
    const element = createComponent();
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button.verify').click();
    await flushPromises();

    expect(getChainStatus).toHaveBeenCalledTimes(2);
  });

  it('shows the refusal for users without AiAuditView', async () => {
    getChainStatus.mockRejectedValue({ body: { message: 'You need the custom permission AiAuditView to verify the AI audit chain.' } });
    const element = createComponent();
    getEntries.error({ message: 'You need the custom permission AiAuditView to read the AI audit log.' });
    await flushPromises();

    expect(element.shadowRoot.querySelectorAll('c-error-panel').length).toBe(2);
  });

  it('is accessible', async () => {
    getChainStatus.mockResolvedValue(mockChains);
    const element = createComponent();
    getEntries.emit(mockEntries);
    await flushPromises();

    await expect(element).toBeAccessible();
  });
});
