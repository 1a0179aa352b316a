#!/usr/bin/env node
// The `sovra` binary. The commands live under the `sovra` topic (service/src/commands/sovra/),
// so that linked into the Salesforce CLI (`sf plugins link .`) they run as `sf sovra …`; this
// standalone binary adds the topic itself: `sovra config validate` is `sf sovra config validate`.
import { execute } from '@oclif/core';

const argv = process.argv.slice(2);
const own = argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'sovra';
await execute({ dir: import.meta.url, args: own ? argv : ['sovra', ...argv] });
