/**
 * One plain closing line after jest's own summary, `jest: N passed, N failed, N skipped`,
 * so a CI log can be judged by its last line as well as by the exit status. A test file that
 * could not run (it does not compile, say) has no tests to count, so it is named on its own.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const broken = results.numRuntimeErrorTestSuites;
    const suites = broken > 0 ? `, ${broken} test file${broken === 1 ? '' : 's'} failed to run` : '';
    process.stdout.write(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped${suites}\n`);
  }
}

module.exports = SummaryReporter;
