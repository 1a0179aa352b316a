import { createElement } from '@lwc/engine-dom';
import SovraAdminConsole from 'c/sovraAdminConsole';
import getOverview from '@salesforce/apex/AdminConsoleController.getOverview';
import { registerSa11yMatcher } from '@sa11y/jest';

const mockOverview = require('./data/getOverview.json');

jest.mock('@salesforce/apex/AdminConsoleController.getOverview', () => ({ default: jest.fn() }), { virtual: true });

registerSa11yMatcher();

// eslint-disable-next-line @lwc/lwc/no-async-operation
const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function createComponent() {
  const element = createElement('c-sovra-admin-console', { is: SovraAdminConsole });
  document.body.appendChild(element);
  return element;
}

describe('c-sovra-admin-console', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
  });

  it('shows jurisdictions with health, endpoints and blocked requests', async () => {
    getOverview.mockResolvedValue(mockOverview);
    const element = createComponent();
    await flushPromises();

    const jurisdictions = element.shadowRoot.querySelector('lightning-datatable.jurisdictions');
    expect(jurisdictions.data.map((j) => j.id)).toEqual(['EU', 'UK', 'US']);
    expect(jurisdictions.data[1].healthClass).toBe('slds-text-color_error');
    expect(element.shadowRoot.querySelector('lightning-datatable.endpoints').data[0].region).toBe('eu-central-1');
    expect(element.shadowRoot.querySelector('lightning-datatable.blocked').data[0].ReasonCode__c).toBe('POLICY_DENIED');
    expect(element.shadowRoot.querySelector('.no-egress')).not.toBeNull();
    expect(element.shadowRoot.querySelector('.summary').textContent).toBe('1 jurisdiction needs attention.');
  });

  it('re-reads on refresh', async () => {
    getOverview.mockResolvedValue(mockOverview);
    const element = createComponent();
    await flushPromises();
    element.shadowRoot.querySelector('lightning-button').click();
    await flushPromises();

    expect(getOverview).toHaveBeenCalledTimes(2);
  });

  it('shows the refusal for users without AiAdmin', async () => {
    getOverview.mockRejectedValue({ body: { message: 'You need the custom permission AiAdmin to open the Sovra admin console.' } });
    const element = createComponent();
    await flushPromises();

    const panel = element.shadowRoot.querySelector('c-error-panel');
    expect(panel.errors.body.message).toContain('AiAdmin');
    expect(element.shadowRoot.querySelector('lightning-datatable')).toBeNull();
  });

  it('is accessible', async () => {
    getOverview.mockResolvedValue(mockOverview);
    const element = createComponent();
    await flushPromises();

    await expect(element).toBeAccessible();
  });
});
