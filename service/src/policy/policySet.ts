/**
 * The Cedar policy set and schema that ship with the service. They are code, not org data:
 * no org admin setting can change them. Each forbid policy carries the reason a user sees
 * when it decides a request.
 */

export const CEDAR_SCHEMA = `
namespace Sovra {
  entity User = { "permissions": Set<String>, "jurisdictions": Set<String> };
  entity Record = { "jurisdiction": String, "object": String };
  action "infer", "train", "export" appliesTo {
    principal: [User],
    resource: [Record],
    context: {
      "deploymentJurisdiction": String,
      "endpointJurisdiction": String,
      "maxFieldClassRank": Long,
      "classCeilingRank": Long,
      "purpose": String
    }
  };
}
`;

export interface ShippedPolicy {
  id: string;
  /** Shown to the user and written to `Reason__c` when this policy denies. */
  reason: string;
  text: string;
}

export const SHIPPED_POLICIES: readonly ShippedPolicy[] = [
  {
    id: 'base-permit',
    reason: '',
    text: 'permit (principal, action, resource);',
  },
  {
    id: 'infer-needs-permission',
    reason: 'You do not have the AiInference permission. Ask your Salesforce admin for the SovraUser permission set.',
    text: 'forbid (principal, action == Sovra::Action::"infer", resource) unless { principal.permissions.contains("AiInference") };',
  },
  {
    id: 'train-needs-permission',
    reason:
      'Training-data export needs the AiTrainingExport permission (permission set SovraTrainingExport); inference rights never grant it.',
    text: 'forbid (principal, action == Sovra::Action::"train", resource) unless { principal.permissions.contains("AiTrainingExport") };',
  },
  {
    id: 'export-needs-permission',
    reason: 'Fine-tuning export needs the AiFineTuning permission; inference rights never grant it.',
    text: 'forbid (principal, action == Sovra::Action::"export", resource) unless { principal.permissions.contains("AiFineTuning") };',
  },
  {
    id: 'inference-data-not-for-training',
    reason: 'Data read for inference may not be used for training or fine-tuning.',
    text: 'forbid (principal, action in [Sovra::Action::"train", Sovra::Action::"export"], resource) when { context.purpose == "infer" };',
  },
  {
    id: 'jurisdiction-entitlement',
    reason: "You are not entitled to AI on records of this record's jurisdiction. Ask your admin for that jurisdiction's permission set.",
    text: 'forbid (principal, action, resource) unless { principal.jurisdictions.contains(resource.jurisdiction) };',
  },
  {
    id: 'endpoint-in-record-jurisdiction',
    reason: "The only model endpoint available lies outside the record's jurisdiction; nothing was sent.",
    text: 'forbid (principal, action, resource) unless { context.endpointJurisdiction == resource.jurisdiction };',
  },
  {
    id: 'deployment-jurisdiction',
    reason: "This Sovra deployment does not serve the record's jurisdiction; nothing was sent.",
    text: 'forbid (principal, action, resource) unless { context.deploymentJurisdiction == resource.jurisdiction };',
  },
  {
    id: 'class-ceiling',
    reason: 'The action would send fields more sensitive than it is allowed to (its highest allowed class); nothing was sent.',
    text: 'forbid (principal, action, resource) when { context.maxFieldClassRank > context.classCeilingRank };',
  },
];
