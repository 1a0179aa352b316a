#!/bin/sh
# Package checks (test/package/apexStatic.test.ts) run apex-ls and PMD from
# @salesforce/code-analyzer-pmd-engine, which need a Java 17+ runtime. Idempotent: installs a
# headless JRE only when no suitable `java` is on the PATH.
set -eu
java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
  echo "package: java $(java_major) present"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless
else
  echo "package: Java 17+ is required for the Apex checks (apex-ls, PMD); install a JRE 17 and re-run." >&2
  exit 1
fi
echo "package: java $(java_major) installed"
