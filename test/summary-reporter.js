/**
 * One plain closing line after jest's own summary, `jest: N passed, N failed, N skipped`,
 * so a CI log can be judged by its last line as well as by the exit status.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}

module.exports = SummaryReporter;
