import { LightningElement, api } from 'lwc';
import { reduceErrors } from 'c/ldsUtils';

/**
 * The one place every Sovra component shows errors: a friendly message, and the reduced error
 * messages behind a details toggle (lwc-recipes errorPanel, without the illustration).
 */
export default class ErrorPanel extends LightningElement {
  /** Generic, user-friendly message shown above the details. */
  @api friendlyMessage = 'Error retrieving data';
  /** Errors as returned by LDS, Apex or JavaScript. */
  @api errors;

  viewDetails = false;

  get errorMessages() {
    return reduceErrors(this.errors);
  }

  get hasDetails() {
    return this.errorMessages.length > 0;
  }

  get detailsLabel() {
    return this.viewDetails ? 'Hide details' : 'Show details';
  }

  handleShowDetailsClick() {
    this.viewDetails = !this.viewDetails;
  }
}
