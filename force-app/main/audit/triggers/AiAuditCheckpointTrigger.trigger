trigger AiAuditCheckpointTrigger on AiAuditCheckpoint__c(before update, before delete) {
  new AuditImmutabilityHandler().run();
}
