// Commands run in-process in tests (SfCommand.run) set process.exitCode when they fail on
// purpose; jest sets the exit code itself only when a test fails, so a deliberate command
// failure must not leak into it. Real test failures still fail the run.
import { afterAll } from '@jest/globals';

afterAll(() => {
  process.exitCode = 0;
});
