/**
 * Reduces one or more LDS, Apex or JavaScript errors into a list of messages a user can read.
 * The shapes handled are those of lwc-recipes' ldsUtils: UI API read and DML errors, Apex
 * AuraHandledException bodies, network errors and plain JS errors.
 * @param {FetchResponse|FetchResponse[]|Error|string} errors
 * @return {String[]} error messages
 */
export function reduceErrors(errors) {
  if (!Array.isArray(errors)) {
    errors = [errors];
  }
  return errors
    .filter((error) => !!error)
    .map((error) => {
      if (typeof error === 'string') {
        return error;
      }
      if (Array.isArray(error.body)) {
        return error.body.map((e) => e.message);
      }
      if (error.body && error.body.pageErrors && error.body.pageErrors.length > 0) {
        return error.body.pageErrors.map((e) => e.message);
      }
      if (error.body && error.body.fieldErrors && Object.keys(error.body.fieldErrors).length > 0) {
        return Object.values(error.body.fieldErrors).flatMap((list) => list.map((e) => e.message));
      }
      if (error.body && typeof error.body.message === 'string') {
        return error.body.message;
      }
      if (typeof error.message === 'string') {
        return error.message;
      }
      return error.statusText;
    })
    .flat()
    .filter((message) => !!message);
}

/**
 * Reads a field of a platform-event payload whatever namespace prefix the org gives it
 * (`RequestId__c` in a dev org, `sovra__RequestId__c` in a subscriber org).
 * @param {Object} payload the event payload
 * @param {String} name the unprefixed field API name
 * @return {*} the value, or undefined
 */
export function payloadField(payload, name) {
  if (!payload) {
    return undefined;
  }
  if (name in payload) {
    return payload[name];
  }
  const key = Object.keys(payload).find((k) => k.endsWith(`__${name}`));
  return key ? payload[key] : undefined;
}
