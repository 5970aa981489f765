// The extension-host suite in a trusted workspace: loaded by VS Code as extensionTestsPath.
import { runMocha } from './mocha';

export function run(): Promise<void> {
  return runMocha(() => {
    require('./activation.test');
    require('./runtime.test');
    require('./events.test');
    require('./tools.test');
    require('./agents.test');
    require('./views.test');
    require('./settings.test');
    require('./copilot.test');
    require('./secrets.test');
    require('./mcp.test');
    require('./dashboard.test');
    require('./isolation.test');
    require('./config.test');
    require('./sdk.test');
  });
}
