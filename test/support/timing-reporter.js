// Prints how long each test file took, slowest first, so a slow suite is visible in CI output.
class TimingReporter {
  onRunComplete(_contexts, results) {
    const rows = results.testResults
      .map((r) => ({
        file: r.testFilePath.replace(process.cwd() + '/', ''),
        ms: r.perfStats.end - r.perfStats.start,
      }))
      .sort((a, b) => b.ms - a.ms);
    process.stdout.write('\nSuite durations:\n');
    for (const row of rows)
      process.stdout.write(`  ${(row.ms / 1000).toFixed(1).padStart(7)} s  ${row.file}\n`);
    // A plain closing line any CI can read.
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed\n`);
  }
}
module.exports = TimingReporter;
