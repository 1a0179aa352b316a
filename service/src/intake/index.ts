/**
 * The intake stage: the jurisdiction channel subscription (CometD + replay), the sweep and
 * recovery, claims in the store, and the hand-off of claimed work to the pipeline.
 */
export { Intake, type IntakeMetrics, type IntakeOptions, type IntakeSource, type IntakeWork, type ProcessBatch } from './intake.js';
export { ChannelSubscription, type ChannelEvent, type SubscriptionOptions, type SubscriptionState } from './subscription.js';
export { sweepQueued, type SweepOptions, type SweptRequest } from './sweep.js';
