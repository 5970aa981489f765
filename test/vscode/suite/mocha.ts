// Runs mocha inside the extension host. The test files are bundled with this module, so they are
// loaded after mocha has put describe/it on the global object (the `load` callback requires them).
import Mocha from 'mocha';

export function runMocha(load: () => void): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 120_000 });
  if (process.env.LOOM_VSCODE_GREP) mocha.grep(process.env.LOOM_VSCODE_GREP);
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  load();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
