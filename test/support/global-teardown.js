// The broker is left running between runs (a second `infra:up` is a no-op), which keeps repeated
// local runs fast; CI ends every process when the run is over. Set STOP_INFRA=1 to stop it here.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  if (process.env.TEST_STARTED_BROKER && process.env.STOP_INFRA === '1') {
    execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'infra.js'), 'down'], {
      stdio: 'inherit',
    });
  }
};
