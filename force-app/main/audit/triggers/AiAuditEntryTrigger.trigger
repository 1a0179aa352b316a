trigger AiAuditEntryTrigger on AiAuditEntry__c(before update, before delete) {
  new AuditImmutabilityHandler().run();
}
