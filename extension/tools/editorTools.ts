// The tools the extension provides to agents: the editor, notifications and questions for the
// human, the clipboard and a status bar text. Each checks its arguments against its schema.
import * as vscode from 'vscode';
import { askText, notify } from '../notify';
import { plainText } from '../plainText';
import { ToolFailure, type ProvidedTool, type ToolCallContext } from '../bridge/client';
import { checkArgs } from './args';
import { checkActiveDocument, checkDocumentOnDisk, resolveInWorkspace, workspaceRelative } from './paths';

export interface ToolHost {
  /** Shows an agent's text in the status bar (empty text hides it). */
  setAgentStatus(agent: string, text: string, tooltip?: string): void;
}

const position = {
  type: 'object',
  properties: { line: { type: 'integer', minimum: 0 }, character: { type: 'integer', minimum: 0 } },
  required: ['line', 'character'],
  additionalProperties: false,
} as const;

const range = {
  type: 'object',
  properties: { start: position, end: position },
  required: ['start', 'end'],
  additionalProperties: false,
} as const;

interface Pos {
  line: number;
  character: number;
}

function define<A>(
  spec: Omit<ProvidedTool, 'handler'> & { run: (args: A, ctx: ToolCallContext) => Promise<unknown> },
): ProvidedTool {
  const { run, ...rest } = spec;
  return { ...rest, handler: (args, ctx) => run(checkArgs<A>(spec.name, spec.parametersSchema, args), ctx) };
}

function activeEditor(tool: string): vscode.TextEditor {
  const editor = vscode.window.activeTextEditor;
  if (!editor) throw new ToolFailure('TOOL_ERROR', 'unavailable', `${tool}: no editor is active`);
  return editor;
}

/** The active editor for a tool called without a path, refused unless it shows a workspace file or an untitled document. */
async function activeWorkspaceEditor(tool: string, access: 'read' | 'write'): Promise<vscode.TextEditor> {
  const editor = activeEditor(tool);
  await checkActiveDocument(tool, editor.document.uri, access);
  await checkDocumentOnDisk(tool, editor.document, access);
  return editor;
}

async function editorFor(tool: string, path: string | undefined, access: 'read' | 'write'): Promise<vscode.TextEditor> {
  if (!path) return activeWorkspaceEditor(tool, access);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(await resolveInWorkspace(tool, path, access)));
  const editor = await vscode.window.showTextDocument(doc, { preserveFocus: true, preview: false });
  // Last, so that nothing is awaited between it and the caller's use of the document.
  await checkDocumentOnDisk(tool, doc, access);
  return editor;
}

function toPosition(p: Pos): vscode.Position {
  return new vscode.Position(p.line, p.character);
}

export function describeSelection(editor: vscode.TextEditor): Record<string, unknown> {
  const s = editor.selection;
  return {
    file: workspaceRelative(editor.document.uri),
    uri: editor.document.uri.toString(),
    language: editor.document.languageId,
    text: editor.document.getText(s),
    start: { line: s.start.line, character: s.start.character },
    end: { line: s.end.line, character: s.end.character },
  };
}

async function applyEdit(
  tool: string,
  editor: vscode.TextEditor,
  edit: (b: vscode.TextEditorEdit) => void,
): Promise<void> {
  const ok = await editor.edit(edit);
  if (!ok)
    throw new ToolFailure('TOOL_ERROR', 'failed', `${tool}: the editor refused the edit (is the document read-only?)`);
}

/** Resolves with undefined when the call's time runs out, closing whatever UI was waiting. */
function untilAborted<T>(
  signal: AbortSignal,
  start: (token: vscode.CancellationToken) => Thenable<T>,
): Promise<T | undefined> {
  const source = new vscode.CancellationTokenSource();
  const onAbort = () => source.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  return Promise.resolve(start(source.token)).finally(() => {
    signal.removeEventListener('abort', onAbort);
    source.dispose();
  });
}

const CLIPBOARD_DENY = 'Deny';
const CLIPBOARD_ALLOW = 'Allow once';
const CLIPBOARD_ALLOW_SESSION = 'Allow this agent while the runtime runs';

export function editorTools(host: ToolHost): ProvidedTool[] {
  /** Agents allowed to read the clipboard without asking: these tools are made anew for each runtime. */
  const clipboardReaders = new Set<string>();
  return [
    define<{ path: string; line?: number; character?: number; preview?: boolean }>({
      name: 'editor:open',
      description: 'Opens a workspace file in the editor, optionally at a line (0-based) and character.',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: {
          path: {
            type: 'string',
            minLength: 1,
            description: 'Relative to the workspace folder, or absolute inside it.',
          },
          line: { type: 'integer', minimum: 0 },
          character: { type: 'integer', minimum: 0 },
          preview: { type: 'boolean' },
        },
        required: ['path'],
        additionalProperties: false,
      },
      run: async (a) => {
        const editor = await editorFor('editor:open', a.path, 'read');
        if (a.line !== undefined) {
          const p = editor.document.validatePosition(new vscode.Position(a.line, a.character ?? 0));
          editor.selection = new vscode.Selection(p, p);
          editor.revealRange(new vscode.Range(p, p), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        }
        return {
          file: workspaceRelative(editor.document.uri),
          language: editor.document.languageId,
          lines: editor.document.lineCount,
        };
      },
    }),
    define<Record<string, never>>({
      name: 'editor:selection',
      description:
        'The active editor: its file, language, selected text and selection range (a workspace file or an untitled document).',
      kind: 'read',
      parametersSchema: { type: 'object', properties: {}, additionalProperties: false },
      run: async () => describeSelection(await activeWorkspaceEditor('editor:selection', 'read')),
    }),
    define<{ text: string; path?: string; position?: Pos }>({
      name: 'editor:insert',
      description:
        'Inserts text at a position, or at every cursor of the active editor when none is given. Without path, the active editor must show a workspace file or an untitled document.',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: { text: { type: 'string' }, path: { type: 'string', minLength: 1 }, position },
        required: ['text'],
        additionalProperties: false,
      },
      run: async (a) => {
        const editor = await editorFor('editor:insert', a.path, 'write');
        const at = a.position ? [toPosition(a.position)] : editor.selections.map((s) => s.active);
        await applyEdit('editor:insert', editor, (b) => at.forEach((p) => b.insert(p, a.text)));
        return { file: workspaceRelative(editor.document.uri), inserted: at.length };
      },
    }),
    define<{ text: string; path?: string; range?: { start: Pos; end: Pos } }>({
      name: 'editor:replace',
      description:
        'Replaces a range (or the active selection when none is given) with text. Without path, the active editor must show a workspace file or an untitled document.',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: { text: { type: 'string' }, path: { type: 'string', minLength: 1 }, range },
        required: ['text'],
        additionalProperties: false,
      },
      run: async (a) => {
        const editor = await editorFor('editor:replace', a.path, 'write');
        const target = a.range
          ? new vscode.Range(toPosition(a.range.start), toPosition(a.range.end))
          : editor.selection;
        const replaced = editor.document.getText(target);
        await applyEdit('editor:replace', editor, (b) => b.replace(target, a.text));
        return { file: workspaceRelative(editor.document.uri), replaced };
      },
    }),
    define<{ message: string; level?: 'info' | 'warning' | 'error'; actions?: string[] }>({
      name: 'ui:notify',
      description: 'Shows a notification. With actions, waits for the button the human clicks and returns it.',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: {
          message: { type: 'string', minLength: 1 },
          level: { enum: ['info', 'warning', 'error'] },
          actions: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 5 },
        },
        required: ['message'],
        additionalProperties: false,
      },
      run: async (a, ctx) => {
        const text = ctx.caller ? `${ctx.caller}: ${a.message}` : a.message;
        const shown = notify(a.level ?? 'info', text, ...(a.actions ?? []));
        if (!a.actions?.length) return { shown: true };
        const action = await Promise.race([
          shown,
          new Promise<undefined>((r) => ctx.signal.addEventListener('abort', () => r(undefined), { once: true })),
        ]);
        return { shown: true, action: action ?? null };
      },
    }),
    define<{ prompt: string; options?: string[]; placeholder?: string; canPickMany?: boolean }>({
      name: 'ui:ask',
      description:
        'Asks the human: a quick pick when options are given, else an input box. Returns the answer, or null when dismissed.',
      kind: 'ask',
      parametersSchema: {
        type: 'object',
        properties: {
          prompt: { type: 'string', minLength: 1 },
          options: { type: 'array', items: { type: 'string' }, minItems: 1 },
          placeholder: { type: 'string' },
          canPickMany: { type: 'boolean' },
        },
        required: ['prompt'],
        additionalProperties: false,
      },
      run: async (a, ctx) => {
        const title = ctx.caller ? `${ctx.caller} asks` : 'An agent asks';
        if (a.options) {
          const picked = await untilAborted(ctx.signal, (token) =>
            vscode.window.showQuickPick(
              a.options!,
              {
                title,
                placeHolder: plainText(a.placeholder ?? a.prompt),
                canPickMany: a.canPickMany ?? false,
                ignoreFocusOut: true,
              },
              token,
            ),
          );
          return { answer: picked ?? null, dismissed: picked === undefined };
        }
        const answer = await untilAborted(ctx.signal, (token) =>
          askText({ title, prompt: a.prompt, placeHolder: a.placeholder, ignoreFocusOut: true }, token),
        );
        return { answer: answer ?? null, dismissed: answer === undefined };
      },
    }),
    define<Record<string, never>>({
      name: 'clipboard:read',
      description:
        "Reads the clipboard's text, once the person allows it (for this call, or for this agent while the runtime runs).",
      kind: 'ask',
      parametersSchema: { type: 'object', properties: {}, additionalProperties: false },
      run: async (_a, ctx) => {
        // What a person copies (a password, a token from anywhere) is theirs: an agent reads it
        // only when they say so. Deny comes first, so Enter alone gives nothing away.
        const caller = ctx.caller || 'an agent';
        if (!clipboardReaders.has(caller)) {
          const picked = await untilAborted(ctx.signal, (token) =>
            vscode.window.showQuickPick(
              [CLIPBOARD_DENY, CLIPBOARD_ALLOW, CLIPBOARD_ALLOW_SESSION],
              { title: plainText(`${caller} wants to read the clipboard`), ignoreFocusOut: true },
              token,
            ),
          );
          if (picked === CLIPBOARD_ALLOW_SESSION) clipboardReaders.add(caller);
          else if (picked !== CLIPBOARD_ALLOW)
            throw new ToolFailure(
              'TOOL_ERROR',
              'denied',
              `clipboard:read: the person did not allow ${caller} to read the clipboard`,
            );
        }
        return { text: await vscode.env.clipboard.readText() };
      },
    }),
    define<{ text: string }>({
      name: 'clipboard:write',
      description: 'Writes text to the clipboard.',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: { text: { type: 'string' } },
        required: ['text'],
        additionalProperties: false,
      },
      run: async (a) => {
        await vscode.env.clipboard.writeText(a.text);
        return { written: a.text.length };
      },
    }),
    define<{ text: string; tooltip?: string }>({
      name: 'ui:status',
      description: 'Shows a short text in the status bar (an empty text removes it).',
      kind: 'write',
      parametersSchema: {
        type: 'object',
        properties: { text: { type: 'string', maxLength: 120 }, tooltip: { type: 'string' } },
        required: ['text'],
        additionalProperties: false,
      },
      run: async (a, ctx) => {
        host.setAgentStatus(ctx.caller, a.text, a.tooltip);
        return { shown: a.text.length > 0 };
      },
    }),
  ];
}
