// Checking arguments against a schema an agent, an MCP server or another runtime gave is running
// their code on the runtime's one thread: a `pattern` such as "^(a+)+$" backtracks for hours on 40
// characters, and anyOf through a recursive $ref doubles its work at each level of the input. No
// rule about schemas bounds that, a clock does: the check runs inside a vm script with a timeout,
// whose watchdog stops whatever is running on the thread, regular expressions included, and
// throws. It costs a watchdog thread per check (about 30 µs), so the runtime's own tools, whose
// schemas are fixed in the source, are checked without it.
import vm from 'node:vm';

let script: vm.Script | undefined;
interface Globals {
  check: ((value: unknown) => boolean) | null;
  value: unknown;
}
let sandbox: Globals | undefined;

/** check(value), stopped after `ms`: true, false, or undefined when it ran out of time. */
export function checkWithin(check: (value: unknown) => boolean, value: unknown, ms: number): boolean | undefined {
  script ??= new vm.Script('check(value)');
  const context = (sandbox ??= vm.createContext({ check: null, value: null } satisfies Globals) as Globals);
  context.check = check;
  context.value = value;
  try {
    return script.runInContext(context, { timeout: ms }) as boolean;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return undefined;
    throw err;
  } finally {
    context.check = null;
    context.value = null;
  }
}
