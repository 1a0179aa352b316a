#!/usr/bin/env node
// The `sovra` binary: the same oclif commands that `sf sovra …` runs when this package is
// linked into the Salesforce CLI (`sf plugins link .`).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
