// Unit and e2e tests assert on behaviour, not on log lines; tests that check the log
// guard build their own logger on a stream.
import { configureLogging } from '../../service/src/shared/log.js';

configureLogging({ silent: true });
