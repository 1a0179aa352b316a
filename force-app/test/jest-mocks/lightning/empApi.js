/**
 * Jest mock of lightning/empApi with the API of sfdx-lwc-jest's stub (subscribe, unsubscribe,
 * onError, setDebugFlag, isEmpEnabled — all jest.fn, so tests can assert on calls) that can also
 * deliver messages: `jestMockPublish(channel, message)` calls every callback subscribed to the
 * channel with the whole CometD message, as the real empApi does (`{ channel, data: { schema,
 * payload, event: { replayId } } }`). `jestMockError(error)` calls the onError listeners and
 * `jestMockReset()` forgets all subscriptions between tests.
 */
let subscriptions = [];
let errorListeners = [];
let nextId = 1;

export const subscribe = jest.fn((channel, replayId, onMessageCallback) => {
  const subscription = { id: `_${nextId++}`, channel, replayId };
  subscriptions.push({ subscription, onMessageCallback });
  return Promise.resolve(subscription);
});

export const unsubscribe = jest.fn((subscription, callback) => {
  const before = subscriptions.length;
  subscriptions = subscriptions.filter((s) => !subscription || s.subscription.id !== subscription.id);
  const response = { successful: subscriptions.length < before };
  if (typeof callback === 'function') {
    callback(response);
  }
  return Promise.resolve(response);
});

export const onError = jest.fn((callback) => {
  errorListeners.push(callback);
  return Promise.resolve();
});

export const setDebugFlag = jest.fn().mockResolvedValue();

export const isEmpEnabled = jest.fn().mockResolvedValue(true);

/**
 * Delivers a message to every subscriber of a channel.
 * @param {string} channel e.g. /event/AiResult__e
 * @param {object} message the CometD message ({ channel, data: { payload, event } })
 * @return {Promise<boolean>} whether anyone was subscribed
 */
export function jestMockPublish(channel, message) {
  const targets = subscriptions.filter((s) => s.subscription.channel === channel);
  targets.forEach((s) => s.onMessageCallback(message));
  return Promise.resolve(targets.length > 0);
}

/**
 * Calls every onError listener.
 * @param {object} error the streaming error
 */
export function jestMockError(error) {
  errorListeners.forEach((listener) => listener(error));
}

/** Forgets all subscriptions and listeners. */
export function jestMockReset() {
  subscriptions = [];
  errorListeners = [];
}
