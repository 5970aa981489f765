// ui:confirm — the runtime asks the person whether a tool under an `ask` policy may run. Only the
// runtime may call it: an agent that could answer (or flood) its own confirmations would make the
// policy worthless, so every other caller is refused before anything is shown.
import { ToolFailure, type ProvidedTool } from '../bridge/client';
import { checkArgs } from '../tools/args';
import type { McpUi } from './ui';

export const CONFIRM_TOOL = 'ui:confirm';
export const RUNTIME_CALLER = 'runtime';

export const ALLOW = 'Allow';
export const ALLOW_SESSION = 'Allow for this Session';
export const DENY = 'Deny';

export interface ConfirmRequest {
  /** The tool that wants to run, e.g. "github:delete_repo". */
  tool: string;
  /** Its arguments: an object, or the JSON text as it arrived. */
  arguments: Record<string, unknown> | string;
  server?: string;
  /** Why it needs asking, e.g. 'mcp.github.policy = "ask"'. */
  reason?: string;
  /** The agent on whose behalf the tool would run. */
  caller?: string;
}

export interface ConfirmAnswer {
  allowed: boolean;
  /** True when the answer came from (or set up) "Allow for this Session". */
  remembered: boolean;
}

const SCHEMA = {
  type: 'object',
  properties: {
    tool: { type: 'string', minLength: 1, maxLength: 300 },
    arguments: { type: ['object', 'string'] },
    server: { type: 'string', maxLength: 200 },
    reason: { type: 'string', maxLength: 500 },
    caller: { type: 'string', maxLength: 200 },
  },
  required: ['tool', 'arguments'],
  additionalProperties: false,
};

const MAX_DETAIL_CHARS = 1500;
const MAX_DETAIL_LINES = 30;

/** Pretty JSON of the arguments, cut to what a dialog can show, saying how much was left out. */
export function formatArguments(
  args: Record<string, unknown> | string,
  maxChars = MAX_DETAIL_CHARS,
  maxLines = MAX_DETAIL_LINES,
): string {
  let text: string;
  if (typeof args === 'string') {
    try {
      text = JSON.stringify(JSON.parse(args), null, 2);
    } catch {
      text = JSON.stringify(args); // not JSON: quoted, so control characters show escaped
    }
  } else {
    text = JSON.stringify(args, null, 2);
  }
  text = visible(text);
  const lines = text.split('\n');
  let shown = lines.slice(0, maxLines).join('\n');
  if (shown.length > maxChars) shown = shown.slice(0, maxChars);
  const omitted = text.length - shown.length;
  return omitted > 0 ? `${shown}\n… (${omitted} more characters not shown)` : shown;
}

/**
 * Characters that change how the rest is shown but are not seen themselves, as \uXXXX: bidi
 * controls (a right-to-left override showed a reversed "nosj.sgnittes/edocsv." as
 * ".vscode/settings.json"), zero-width ones, line and paragraph separators (a line break in
 * native dialogs), C1 controls. JSON.stringify escapes only C0.
 */
export function visible(text: string): string {
  return text.replace(/[\p{Cf}\p{Zl}\p{Zp}\p{Cc}]/gu, (c) =>
    c === '\n' ? c : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

/** The dialog's text: the tool named in quotes (a name cannot smuggle in lines), then its arguments. */
export function confirmQuestion(req: ConfirmRequest): { message: string; detail: string } {
  const who = req.caller ? `Agent ${JSON.stringify(req.caller)} wants` : 'An agent wants';
  const where = req.server ? ` from MCP server ${JSON.stringify(req.server)}` : '';
  const message = `${who} to run the tool ${JSON.stringify(req.tool)}${where}.`;
  const detail = [
    `Arguments:\n${formatArguments(req.arguments)}`,
    req.reason ? `Asked because ${visible(req.reason)}.` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return { message, detail };
}

/**
 * What "Allow for this Session" allows: this agent, this tool, for this reason. By the tool alone,
 * one agent's allowed write of .vscode/extensions.json let every agent write loom.toml and .git
 * hooks unasked (the reason of a protected write names the path).
 */
const allowanceOf = (req: ConfirmRequest) => JSON.stringify([req.caller ?? '', req.tool, req.reason ?? '']);

export class ConfirmTool {
  /** Allowances given for the rest of this runtime's life in this window. */
  private readonly remembered = new Set<string>();

  constructor(private readonly ui: McpUi) {}

  forget(): void {
    this.remembered.clear();
  }

  get tool(): ProvidedTool {
    return {
      name: CONFIRM_TOOL,
      description:
        'Asks the person whether a tool under an "ask" policy may run (modal dialog naming the tool and its arguments). Only the runtime may call it.',
      kind: 'ask',
      parametersSchema: SCHEMA,
      handler: async (raw, ctx) => {
        if (ctx.caller !== RUNTIME_CALLER) {
          throw new ToolFailure(
            'TOOL_ERROR',
            'denied',
            `${CONFIRM_TOOL} answers only the runtime itself, not ${JSON.stringify(ctx.caller || 'an anonymous caller')}: an agent cannot confirm its own tool calls`,
          );
        }
        return this.confirm(checkArgs<ConfirmRequest>(CONFIRM_TOOL, SCHEMA, raw), ctx.signal);
      },
    };
  }

  async confirm(req: ConfirmRequest, signal?: AbortSignal): Promise<ConfirmAnswer> {
    const allowance = allowanceOf(req);
    if (this.remembered.has(allowance)) return { allowed: true, remembered: true };
    // Deny first: the dialog takes the focus, and an agent can raise it while the person types
    // (the window's editor events say when), whose next Space or Enter would otherwise allow.
    const choice = await this.ui.modal({ ...confirmQuestion(req), choices: [DENY, ALLOW, ALLOW_SESSION] }, signal);
    if (choice === ALLOW_SESSION) {
      this.remembered.add(allowance);
      return { allowed: true, remembered: true };
    }
    return { allowed: choice === ALLOW, remembered: false };
  }
}
