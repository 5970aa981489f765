// The extension-host suite in an untrusted workspace (Workspace Trust on, folder not trusted).
import { runMocha } from './mocha';

export function run(): Promise<void> {
  return runMocha(() => {
    require('./trust.test');
  });
}
