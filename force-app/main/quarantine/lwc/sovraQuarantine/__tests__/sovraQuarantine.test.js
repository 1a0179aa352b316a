import { createElement } from '@lwc/engine-dom';
import SovraQuarantine from 'c/sovraQuarantine';
import LightningConfirm from 'lightning/confirm';
import getQueue from '@salesforce/apex/QuarantineController.getQueue';
import release from '@salesforce/apex/QuarantineController.release';
import purge from '@salesforce/apex/QuarantineController.purge';
import { registerSa11yMatcher } from '@sa11y/jest';

const mockQueue = require('./data/getQueue.json');
const mockQueueReadOnly = require('./data/getQueueReadOnly.json');

// See sovraAiAction.test.js for why the adapter comes from wire-service-jest-util.
jest.mock(
  '@salesforce/apex/QuarantineController.getQueue',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/wire-service-jest-util');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);
jest.mock('@salesforce/apex/QuarantineController.release', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/QuarantineController.purge', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('lightning/confirm', () => ({ __esModule: true, default: { open: jest.fn() } }), { virtual: true });
jest.mock('@salesforce/apex', () => ({ refreshApex: jest.fn(() => Promise.resolve()) }), { virtual: true });

registerSa11yMatcher();

// eslint-disable-next-line @lwc/lwc/no-async-operation
const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function createComponent() {
  const element = createElement('c-sovra-quarantine', { is: SovraQuarantine });
  document.body.appendChild(element);
  return element;
}

function selectRows(element, rows) {
  const table = element.shadowRoot.querySelector('lightning-datatable');
  table.dispatchEvent(new CustomEvent('rowselection', { detail: { selectedRows: rows } }));
}

describe('c-sovra-quarantine', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
  });

  it('lists the open queue with release and purge for admins', async () => {
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();

    expect(getQueue.getLastConfig()).toEqual({ status: 'Open' });
    expect(element.shadowRoot.querySelector('lightning-datatable').data.length).toBe(2);
    expect(element.shadowRoot.querySelector('lightning-button.release')).not.toBeNull();
    expect(element.shadowRoot.querySelector('lightning-button.purge')).not.toBeNull();
    expect(element.shadowRoot.querySelector('lightning-button.release').disabled).toBe(true);
  });

  it('hides release, purge and selection from users who may not release', async () => {
    const element = createComponent();
    getQueue.emit(mockQueueReadOnly);
    await flushPromises();

    expect(element.shadowRoot.querySelector('lightning-button.release')).toBeNull();
    expect(element.shadowRoot.querySelector('lightning-button.purge')).toBeNull();
    expect(element.shadowRoot.querySelector('lightning-datatable').hideCheckboxColumn).toBe(true);
  });

  it('releases the selected entries and tells the user', async () => {
    release.mockResolvedValue(1);
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();
    const toast = jest.fn();
    element.addEventListener('lightning__showtoast', toast);

    selectRows(element, [mockQueue.items[0]]);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button.release').click();
    await flushPromises();

    expect(release).toHaveBeenCalledWith({ ids: ['a03000000000001AAA'] });
    expect(toast).toHaveBeenCalled();
    expect(toast.mock.calls[0][0].detail.message).toBe('1 entry released.');
  });

  it('purges only after confirmation', async () => {
    purge.mockResolvedValue(2);
    LightningConfirm.open.mockResolvedValueOnce(false).mockResolvedValueOnce(true);
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();
    selectRows(element, mockQueue.items);
    await flushPromises();

    element.shadowRoot.querySelector('lightning-button.purge').click();
    await flushPromises();
    expect(purge).not.toHaveBeenCalled();

    element.shadowRoot.querySelector('lightning-button.purge').click();
    await flushPromises();
    expect(purge).toHaveBeenCalledWith({ ids: ['a03000000000001AAA', 'a03000000000002AAA'] });
  });

  it('shows a refused release through the error panel', async () => {
    release.mockRejectedValue({ body: { message: 'QUA-000000001 is Released; only Open entries can be released.' } });
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();
    selectRows(element, [mockQueue.items[0]]);
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button.release').click();
    await flushPromises();

    expect(element.shadowRoot.querySelector('c-error-panel').errors.body.message).toContain('only Open entries');
  });

  it('changes the status filter', async () => {
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();
    const combobox = element.shadowRoot.querySelector('lightning-combobox');
    combobox.dispatchEvent(new CustomEvent('change', { detail: { value: 'Purged' } }));
    await flushPromises();

    expect(getQueue.getLastConfig()).toEqual({ status: 'Purged' });
  });

  it('is accessible', async () => {
    const element = createComponent();
    getQueue.emit(mockQueue);
    await flushPromises();

    await expect(element).toBeAccessible();
  });
});
