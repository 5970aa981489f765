import { strict as assert } from 'node:assert';
import { locateKey } from '../../../runtime/contract/locateKey';

describe('config: where a key of loom.toml is written', () => {
  const toml = [
    '# a comment',
    '[runtime]',
    'log_levle = "debug"',
    '',
    '[agents.worker]',
    'command = "python"',
    '  restart = "sometimes"',
    'env = { A = 1 }',
    '[agents."my agent"]',
    'command = "x"',
    '[agent.typo]',
    'tools.shell.allow = ["a"]',
  ].join('\n');

  for (const [key, line, column] of [
    ['runtime.log_levle', 3, 1],
    ['runtime', 2, 1],
    ['agents.worker.restart', 7, 3],
    ['agents.worker.env.A', 8, 1], // inside an inline table: its key's line
    ['agents."my agent".command', 10, 1],
    ['agents."my agent"', 9, 1],
    ['agent', 11, 1], // a table below the key places it
    ['agent.typo.tools.shell.allow[1]', 12, 1],
    ['agents.worker.cwd', 5, 1], // a missing key: its table
  ] as const) {
    it(`${key} → line ${line}, column ${column}`, () => {
      assert.deepEqual(locateKey(toml, key), { line, column });
    });
  }

  it('places nothing for a key of another table', () => {
    assert.equal(locateKey(toml, 'bus.max_hops'), undefined);
    assert.equal(locateKey(toml, ''), undefined);
  });
});
